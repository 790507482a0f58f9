import type { KubeObject, ResourceType, WatchEvent } from '@flotilla/api';
import { resolveResourceName } from '@flotilla/api';
import {
  ApiError,
  ConnectionError,
  RestClient,
  createClient,
  createInformer,
  isConflict,
  isGone,
  isNotFound,
  type Informer,
} from '@flotilla/client';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { eventually } from '../support/eventually';

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}

const CONFIG_MAPS = type('configmaps');
const NAMESPACES = type('namespaces');

function configMap(
  name: string,
  labels: Record<string, string> = {},
  data: Record<string, string> = {},
): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data };
}

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the request to fail');
}

/**
 * Compacts history the way the apiserver's own compactor does (it records a revision on one run and
 * compacts to it on the next), so its watch cache drops the window as well as etcd.
 */
async function compactHistory(): Promise<void> {
  await cp.apiserver.compact();
  await cp.apiserver.compact();
}

let cp: TestControlPlane;
let client: RestClient;

beforeAll(async () => {
  cp = await startTestControlPlane('client');
  client = createClient({ kubeconfig: cp.kubeconfigPath, env: {} });
  for (const name of ['crud', 'watching', 'informing', 'expiring']) {
    await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
});

afterAll(async () => {
  client?.close();
  await cp?.stop();
});

describe('RestClient against the apiserver', () => {
  it('creates, reads, lists by label, updates with conflicts, patches and deletes', async () => {
    const created = await client.create(CONFIG_MAPS, configMap('one', { app: 'web' }, { a: '1' }), {
      namespace: 'crud',
    });
    expect(created.metadata.uid).toBeDefined();
    await client.create(CONFIG_MAPS, configMap('two', { app: 'db' }), { namespace: 'crud' });

    const fetched = await client.get(CONFIG_MAPS, 'one', { namespace: 'crud' });
    expect(fetched.data).toEqual({ a: '1' });

    const web = await client.list(CONFIG_MAPS, { namespace: 'crud', labelSelector: 'app=web' });
    expect(web.items.map((item) => item.metadata.name)).toEqual(['one']);
    expect(web.metadata.resourceVersion).toMatch(/^\d+$/);

    const updated = await client.update(CONFIG_MAPS, { ...fetched, data: { a: '2' } });
    expect(updated.metadata.resourceVersion).not.toBe(fetched.metadata.resourceVersion);
    const stale = await thrown(client.update(CONFIG_MAPS, { ...fetched, data: { a: '3' } }));
    expect(isConflict(stale)).toBe(true);
    expect((stale as ApiError).reason).toBe('Conflict');

    const merged = await client.patch(
      CONFIG_MAPS,
      'one',
      { data: { b: 'x' } },
      { namespace: 'crud', patchType: 'merge' },
    );
    expect(merged.data).toEqual({ a: '2', b: 'x' });

    await client.delete(CONFIG_MAPS, 'one', { namespace: 'crud', propagationPolicy: 'Background' });
    const missing = await thrown(client.get(CONFIG_MAPS, 'one', { namespace: 'crud' }));
    expect(isNotFound(missing)).toBe(true);
    expect((missing as ApiError).status).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound' });
  });

  it('applies server-side with a field manager', async () => {
    const manifest: KubeObject = {
      ...configMap('applied', {}, { k: 'v' }),
      metadata: { name: 'applied', namespace: 'crud' },
    };
    const applied = await client.apply(CONFIG_MAPS, manifest, { fieldManager: 'client-test' });
    expect(applied.data).toEqual({ k: 'v' });
    expect(applied.metadata.managedFields?.some((entry) => entry.manager === 'client-test')).toBe(true);
  });

  it('returns the invalid fields of a rejected object as causes', async () => {
    const invalid = await thrown(client.create(CONFIG_MAPS, configMap('Not_A_Name'), { namespace: 'crud' }));
    expect(invalid).toBeInstanceOf(ApiError);
    expect((invalid as ApiError).code).toBe(422);
    expect((invalid as ApiError).causes.length).toBeGreaterThan(0);
  });

  it('explains a wrong token and an unreachable server', async () => {
    const badToken = new RestClient({ ...client.connection, token: 'wrong' });
    try {
      const error = await thrown(badToken.list(CONFIG_MAPS));
      expect((error as ApiError).code).toBe(401);
    } finally {
      badToken.close();
    }
    const nowhere = new RestClient({ ...client.connection, server: 'https://127.0.0.1:1' });
    const refused = await thrown(nowhere.list(CONFIG_MAPS));
    expect(refused).toBeInstanceOf(ConnectionError);
    expect((refused as Error).message).toContain('flotilla up');
    nowhere.close();
  });
});

describe('watch', () => {
  it('streams changes after a list and stops when aborted', async () => {
    const list = await client.list(CONFIG_MAPS, { namespace: 'watching' });
    const controller = new AbortController();
    const seen: WatchEvent[] = [];
    const consuming = (async () => {
      for await (const event of client.watch(CONFIG_MAPS, {
        namespace: 'watching',
        resourceVersion: list.metadata.resourceVersion,
        signal: controller.signal,
      })) {
        if (event.type !== 'BOOKMARK') seen.push(event);
      }
    })();
    await client.create(CONFIG_MAPS, configMap('w'), { namespace: 'watching' });
    await client.patch(CONFIG_MAPS, 'w', { data: { x: '1' } }, { namespace: 'watching', patchType: 'merge' });
    await client.delete(CONFIG_MAPS, 'w', { namespace: 'watching' });
    await eventually(() => seen.length >= 3, 'three watch events');
    controller.abort();
    await consuming;
    expect(seen.map((event) => `${event.type} ${event.object.metadata.name ?? ''}`)).toEqual([
      'ADDED w',
      'MODIFIED w',
      'DELETED w',
    ]);
  });

  it('resumes across server-closed connections without repeating events', async () => {
    const list = await client.list(CONFIG_MAPS, { namespace: 'watching' });
    const controller = new AbortController();
    const names: string[] = [];
    let reconnects = 0;
    const consuming = (async () => {
      for await (const event of client.watch(CONFIG_MAPS, {
        namespace: 'watching',
        resourceVersion: list.metadata.resourceVersion,
        timeoutSeconds: 1,
        signal: controller.signal,
        onReconnect: () => {
          reconnects += 1;
        },
      })) {
        if (event.type === 'ADDED') names.push(event.object.metadata.name ?? '');
      }
    })();
    await client.create(CONFIG_MAPS, configMap('before'), { namespace: 'watching' });
    await eventually(() => reconnects >= 1, 'the server to end the first watch connection', 5_000);
    await client.create(CONFIG_MAPS, configMap('after'), { namespace: 'watching' });
    await eventually(() => names.includes('after'), 'the event after the reconnect');
    controller.abort();
    await consuming;
    expect(names).toEqual(['before', 'after']);
  });

  it('surfaces 410 Gone when the resourceVersion was compacted away', async () => {
    const list = await client.list(CONFIG_MAPS, { namespace: 'watching' });
    for (let i = 0; i < 3; i++)
      await client.create(CONFIG_MAPS, configMap(`churn-${i}`), { namespace: 'crud' });
    await compactHistory();
    const error = await thrown(
      (async () => {
        for await (const _event of client.watch(CONFIG_MAPS, {
          namespace: 'watching',
          resourceVersion: list.metadata.resourceVersion,
          // Without the Gone error the watch would wait for events; end it so the test fails instead.
          signal: AbortSignal.timeout(10_000),
        })) {
          // Any event before the error would mean the old version was still served.
        }
      })(),
    );
    expect(isGone(error)).toBe(true);
  });
});

describe('informer', () => {
  let informer: Informer<KubeObject> | undefined;
  afterEach(() => informer?.stop());

  it('lists, then delivers adds, updates and deletes; cached objects are frozen', async () => {
    await client.create(CONFIG_MAPS, configMap('existing', { team: 'a' }), { namespace: 'informing' });
    await client.create(CONFIG_MAPS, configMap('other-team', { team: 'b' }), { namespace: 'informing' });
    const log: string[] = [];
    informer = createInformer({
      client,
      resource: CONFIG_MAPS,
      namespace: 'informing',
      labelSelector: 'team=a',
    });
    informer.addEventHandler({
      onAdd: (object) => log.push(`add ${object.metadata.name ?? ''}`),
      onUpdate: (previous, current) =>
        log.push(
          `update ${current.metadata.name ?? ''} ${JSON.stringify(previous.data)}->${JSON.stringify(current.data)}`,
        ),
      onDelete: (object) => log.push(`delete ${object.metadata.name ?? ''}`),
    });
    informer.start();
    await informer.waitForSync();
    expect(informer.hasSynced()).toBe(true);
    expect(log).toEqual(['add existing']);

    await client.create(CONFIG_MAPS, configMap('new', { team: 'a' }), { namespace: 'informing' });
    await client.patch(
      CONFIG_MAPS,
      'existing',
      { data: { v: '1' } },
      { namespace: 'informing', patchType: 'merge' },
    );
    await client.delete(CONFIG_MAPS, 'new', { namespace: 'informing' });
    await eventually(() => log.length >= 4, 'informer events');
    expect(log).toEqual(['add existing', 'add new', 'update existing {}->{"v":"1"}', 'delete new']);

    const cached = informer.get('informing/existing');
    expect(cached?.data).toEqual({ v: '1' });
    expect(informer.list()).toHaveLength(1);
    expect(() => {
      (cached?.metadata as { name?: string }).name = 'mutated';
    }).toThrow(TypeError);
  });

  it('re-delivers every cached object as an update each resync period', async () => {
    await client.create(CONFIG_MAPS, configMap('resynced', { resync: 'yes' }), { namespace: 'informing' });
    let resyncs = 0;
    informer = createInformer({
      client,
      resource: CONFIG_MAPS,
      namespace: 'informing',
      labelSelector: 'resync=yes',
      resyncPeriodMs: 100,
    });
    informer.addEventHandler({
      onUpdate: (previous, current) => {
        if (previous === current) resyncs += 1;
      },
    });
    informer.start();
    await informer.waitForSync();
    await eventually(() => resyncs >= 2, 'two resyncs');
  });

  it('relists after its watch expires with 410 Gone, delivering what changed meanwhile', async () => {
    await client.create(CONFIG_MAPS, configMap('kept', { expiry: 'test' }), { namespace: 'expiring' });
    const errors: unknown[] = [];
    informer = createInformer({
      client,
      resource: CONFIG_MAPS,
      namespace: 'expiring',
      labelSelector: 'expiry=test',
      // Short connections: the informer reconnects from its last version, which compaction removes.
      watchTimeoutSeconds: 1,
      onError: (error) => errors.push(error),
    });
    const log: string[] = [];
    informer.addEventHandler({
      onAdd: (object) => log.push(`add ${object.metadata.name ?? ''}`),
      onDelete: (object) => log.push(`delete ${object.metadata.name ?? ''}`),
    });
    informer.start();
    await informer.waitForSync();
    // Changes outside the selector move etcd's revision on; compaction then drops the informer's version.
    for (let i = 0; i < 3; i++)
      await client.create(CONFIG_MAPS, configMap(`noise-${i}`), { namespace: 'expiring' });
    await compactHistory();
    await eventually(() => errors.some(isGone), 'the watch to expire with 410 Gone', 10_000);

    await client.create(CONFIG_MAPS, configMap('later', { expiry: 'test' }), { namespace: 'expiring' });
    await client.delete(CONFIG_MAPS, 'kept', { namespace: 'expiring' });
    await eventually(
      () => log.includes('delete kept') && log.includes('add later'),
      'events after the relist',
    );
    expect(informer.list().map((object) => object.metadata.name)).toEqual(['later']);
  });
});
