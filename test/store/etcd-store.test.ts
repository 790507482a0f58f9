import { randomUUID } from 'node:crypto';
import type { KubeObject } from '@flotilla/api';
import {
  EtcdStore,
  StoreError,
  WatchCache,
  createdJson,
  type CacheEvent,
  type StoreEvent,
} from '@flotilla/store';
import { eventually, requireTestEnv } from '../support/eventually';

const etcdUrl = requireTestEnv('FLOTILLA_TEST_ETCD');

function pod(name: string, labels: Record<string, string> = {}, extra: Partial<KubeObject> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, ...extra };
}

async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('expected a StoreError');
}

describe('EtcdStore on a real etcd', () => {
  const store = new EtcdStore({ endpoints: [etcdUrl] });
  let prefix: string;
  beforeEach(() => {
    prefix = `/registry/test-${randomUUID()}/pods/`;
  });
  afterAll(() => store.close());

  it('sets resourceVersion to the mod revision and compares it on update', async () => {
    const created = await store.create(`${prefix}default/a`, pod('a'));
    const revision = Number(created.metadata?.resourceVersion);
    expect(revision).toBeGreaterThan(0);
    const read = await store.get(`${prefix}default/a`);
    expect(read?.metadata?.resourceVersion).toBe(String(revision));

    const updated = await store.update(`${prefix}default/a`, pod('a', { v: '2' }), revision);
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(revision);

    const stale = await storeError(store.update(`${prefix}default/a`, pod('a', { v: '3' }), revision));
    expect(stale.code).toBe('Conflict');
    expect(stale.revision).toBe(Number(updated.metadata?.resourceVersion));
    expect((await store.get(`${prefix}default/a`))?.metadata?.labels).toEqual({ v: '2' });
  });

  it('answers a create with the JSON it stored plus resourceVersion, as JSON.stringify writes the answer', async () => {
    const shapes: KubeObject[] = [
      pod('a', { app: 'web' }, { spec: { containers: [{ name: 'c', image: 'i' }] }, status: {} }),
      { apiVersion: 'v1', kind: 'Pod', metadata: {} },
      // Members JSON leaves out, integer-like keys (which JSON.stringify writes first), odd strings.
      JSON.parse('{"metadata":{"name":"c","7":"first"},"apiVersion":"v1"}') as KubeObject,
      {
        metadata: { name: 'c2', uid: undefined },
        kind: undefined,
        apiVersion: 'v1',
      } as unknown as KubeObject,
      {
        spec: { x: [1, 'two', null] },
        metadata: { name: 'd', annotations: { 'a"b': 'quo"te\n' } },
      } as unknown as KubeObject,
    ];
    for (const [index, shape] of shapes.entries()) {
      const created = await store.create(`${prefix}default/shape-${index}`, shape);
      expect(createdJson(created)).toBe(JSON.stringify(created));
      const read = await store.get(`${prefix}default/shape-${index}`);
      expect(read).toEqual(JSON.parse(JSON.stringify(created)));
    }
    // An object we cannot splice into is still stored; its answer is serialized by the caller.
    const odd = await store.create(`${prefix}default/odd`, {
      metadata: Object.create(null) as object,
    } as KubeObject);
    expect(odd.metadata?.resourceVersion).toBeDefined();
    expect(createdJson(odd)).toBeUndefined();
  });

  it('refuses to create twice and to update or delete what is missing', async () => {
    await store.create(`${prefix}default/a`, pod('a'));
    expect((await storeError(store.create(`${prefix}default/a`, pod('a')))).code).toBe('AlreadyExists');
    expect((await storeError(store.update(`${prefix}default/b`, pod('b'), 5))).code).toBe('NotFound');
    expect((await storeError(store.delete(`${prefix}default/b`))).code).toBe('NotFound');
  });

  it('deletes conditionally and returns the last state at the deletion revision', async () => {
    const created = await store.create(`${prefix}default/a`, pod('a', { keep: 'me' }));
    const revision = Number(created.metadata?.resourceVersion);
    expect((await storeError(store.delete(`${prefix}default/a`, revision - 1))).code).toBe('Conflict');
    const deleted = await store.delete(`${prefix}default/a`, revision);
    expect(deleted.metadata?.labels).toEqual({ keep: 'me' });
    expect(Number(deleted.metadata?.resourceVersion)).toBeGreaterThan(revision);
    expect(await store.get(`${prefix}default/a`)).toBeUndefined();
  });

  it('pages a list with limit and continue, all pages at the first page revision', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await store.create(`${prefix}default/${name}`, pod(name));
    const first = await store.list(prefix, { limit: 2 });
    expect(first.items.map((item) => item.metadata?.name)).toEqual(['a', 'b']);
    expect(first.remainingItemCount).toBe(3);
    await store.create(`${prefix}default/f`, pod('f'));
    const second = await store.list(prefix, { limit: 2, continue: first.continue });
    const third = await store.list(prefix, { limit: 2, continue: second.continue });
    expect([...second.items, ...third.items].map((item) => item.metadata?.name)).toEqual(['c', 'd', 'e']);
    expect(third.continue).toBeUndefined();
    expect(second.revision).toBe(first.revision);
  });

  it('rejects an object over the size limit before it reaches etcd', async () => {
    const big = pod('big', {}, { data: { blob: 'x'.repeat(1.6 * 1024 * 1024) } } as Partial<KubeObject>);
    const error = await storeError(store.create(`${prefix}default/big`, big));
    expect(error.code).toBe('TooLarge');
    expect(error.message).toContain('at most');
  });

  it('watches from a revision and reports Gone once that revision is compacted', async () => {
    const first = await store.create(`${prefix}default/a`, pod('a'));
    const from = Number(first.metadata?.resourceVersion);
    await store.update(`${prefix}default/a`, pod('a', { v: '2' }), from);
    await store.delete(`${prefix}default/a`);
    const events: StoreEvent[] = [];
    const watch = await store.watch(prefix, {
      fromRevision: from,
      onEvent: (e) => events.push(e),
      onError: () => {},
    });
    await eventually(() => events.length === 2, 'two events');
    watch.close();
    expect(events.map((event) => event.type)).toEqual(['MODIFIED', 'DELETED']);
    expect(events[1]?.object.metadata?.labels).toEqual({ v: '2' });
    expect(events[0]?.previous?.metadata?.labels).toEqual({});

    const marker = await store.create(`${prefix}default/z`, pod('z'));
    await store.compact(Number(marker.metadata?.resourceVersion));
    const gone = await storeError(
      store.watch(prefix, { fromRevision: from, onEvent: () => {}, onError: () => {} }),
    );
    expect(gone.code).toBe('Gone');
  });
});

describe('WatchCache on a real etcd', () => {
  const store = new EtcdStore({ endpoints: [etcdUrl] });
  const caches: WatchCache[] = [];
  let prefix: string;
  beforeEach(() => {
    prefix = `/registry/test-${randomUUID()}/pods/`;
  });
  afterAll(async () => {
    caches.forEach((cache) => cache.stop());
    await store.close();
  });
  const startCache = async (windowSize?: number): Promise<WatchCache> => {
    const cache = new WatchCache({ store, prefix, windowSize });
    caches.push(cache);
    await cache.start();
    return cache;
  };

  it('lists what exists at start and follows later writes', async () => {
    await store.create(`${prefix}default/a`, pod('a'));
    const cache = await startCache();
    expect(cache.list().items.map((item) => item.metadata?.name)).toEqual(['a']);
    const created = await store.create(`${prefix}other/b`, {
      ...pod('b'),
      metadata: { name: 'b', namespace: 'other' },
    });
    expect(await cache.waitForRevision(Number(created.metadata?.resourceVersion), 5000)).toBe(true);
    expect(cache.list().items).toHaveLength(2);
    expect(cache.list({ keyPrefix: `${prefix}other/` }).items.map((item) => item.metadata?.name)).toEqual([
      'b',
    ]);
  });

  it('turns label changes into ADDED and DELETED for a selector watch', async () => {
    const cache = await startCache();
    const events: CacheEvent[] = [];
    await cache.watch({
      filter: (object) => object.metadata?.labels?.['app'] === 'web',
      onEvent: (event) => events.push(event),
      onClose: () => {},
    });
    const a = await store.create(`${prefix}default/a`, pod('a', { app: 'api' }));
    const b = await store.update(
      `${prefix}default/a`,
      pod('a', { app: 'web' }),
      Number(a.metadata?.resourceVersion),
    );
    const c = await store.update(
      `${prefix}default/a`,
      pod('a', { app: 'web', v: '2' }),
      Number(b.metadata?.resourceVersion),
    );
    await store.update(`${prefix}default/a`, pod('a', { app: 'api' }), Number(c.metadata?.resourceVersion));
    await eventually(() => events.length === 3, 'three events');
    expect(events.map((event) => event.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  });

  it('replays the window to a watcher that resumes from a revision', async () => {
    const cache = await startCache();
    const a = await store.create(`${prefix}default/a`, pod('a'));
    await store.create(`${prefix}default/b`, pod('b'));
    const last = await store.create(`${prefix}default/c`, pod('c'));
    await cache.waitForRevision(Number(last.metadata?.resourceVersion), 5000);
    const events: CacheEvent[] = [];
    await cache.watch({
      fromRevision: Number(a.metadata?.resourceVersion),
      filter: () => true,
      onEvent: (event) => events.push(event),
      onClose: () => {},
    });
    expect(events.map((event) => event.object.metadata?.name)).toEqual(['b', 'c']);
  });

  it('sends the current state first to a watcher without a revision', async () => {
    await store.create(`${prefix}default/a`, pod('a'));
    const cache = await startCache();
    const events: CacheEvent[] = [];
    await cache.watch({ filter: () => true, onEvent: (event) => events.push(event), onClose: () => {} });
    expect(events.map((event) => `${event.type} ${event.object.metadata?.name ?? ''}`)).toEqual(['ADDED a']);
  });

  it('hands a watch older than its window to etcd, which answers Gone after compaction', async () => {
    const early = await store.create(`${prefix}default/a`, pod('a'));
    const cache = await startCache(2);
    for (const name of ['b', 'c', 'd']) await store.create(`${prefix}default/${name}`, pod(name));
    const last = await store.create(`${prefix}default/e`, pod('e'));
    await cache.waitForRevision(Number(last.metadata?.resourceVersion), 5000);
    expect(cache.windowStart).toBeGreaterThan(Number(early.metadata?.resourceVersion));

    const events: CacheEvent[] = [];
    const watch = await cache.watch({
      fromRevision: Number(early.metadata?.resourceVersion),
      filter: () => true,
      onEvent: (event) => events.push(event),
      onClose: () => {},
    });
    await eventually(() => events.length === 4, 'events b..e from etcd');
    watch.close();

    await store.compact(Number(last.metadata?.resourceVersion));
    const gone = await storeError(
      cache.watch({
        fromRevision: Number(early.metadata?.resourceVersion),
        filter: () => true,
        onEvent: () => {},
        onClose: () => {},
      }),
    );
    expect(gone.code).toBe('Gone');
  });
});
