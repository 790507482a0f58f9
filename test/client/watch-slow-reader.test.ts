// A watcher that stops reading while much changes: whether the bytes wait in the sockets and the
// client's buffers or the apiserver drops the connection once 16 MiB are buffered for it (then the
// client resumes from the last resourceVersion it handed out), nothing may be missed or repeated.
// (Measured here: Node's client and the loopback sockets absorbed 39 MB without a drop.)
import type { KubeObject, ResourceType, WatchEvent } from '@flotilla/api';
import { resolveResourceName } from '@flotilla/api';
import { createClient, type RestClient } from '@flotilla/client';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';

const COUNT = 600;
/** 600 × 64 KiB ≈ 39 MB of events: well past the 16 MiB limit plus what the sockets hold. */
const PAYLOAD = 'x'.repeat(64 * 1024);

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}
const CONFIG_MAPS = type('configmaps');
const NAMESPACES = type('namespaces');

let cp: TestControlPlane;
let client: RestClient;

beforeAll(async () => {
  cp = await startTestControlPlane('slow-reader');
  client = createClient({ kubeconfig: cp.kubeconfigPath, env: {} });
  await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'slow' } });
});

afterAll(async () => {
  client?.close();
  await cp?.stop();
});

it('delivers every event once to a watcher that stopped reading while 39 MB changed', async () => {
  const list = await client.list(CONFIG_MAPS, { namespace: 'slow' });
  const controller = new AbortController();
  const events = client
    .watch(CONFIG_MAPS, {
      namespace: 'slow',
      resourceVersion: list.metadata.resourceVersion,
      signal: controller.signal,
    })
    [Symbol.asyncIterator]();
  const names: string[] = [];
  const take = async (): Promise<void> => {
    const next: IteratorResult<WatchEvent> = await events.next();
    if (next.done) throw new Error('the watch ended');
    if (next.value.type === 'ADDED') names.push(next.value.object.metadata.name ?? '');
  };
  try {
    // The first event opens the connection; then the reader stops while the rest are written.
    const first = take();
    await client.create(CONFIG_MAPS, configMap('cm-0000'), { namespace: 'slow' });
    await first;
    for (let i = 1; i < COUNT; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, COUNT - i) }, (_, j) =>
          client.create(CONFIG_MAPS, configMap(`cm-${String(i + j).padStart(4, '0')}`), {
            namespace: 'slow',
          }),
        ),
      );
    }
    while (names.length < COUNT) await take();
    expect(new Set(names).size).toBe(COUNT);
    // Creates ran ten at a time, so the order within a batch is the server's.
    expect([...names].sort()).toEqual(
      Array.from({ length: COUNT }, (_, i) => `cm-${String(i).padStart(4, '0')}`),
    );
  } finally {
    controller.abort();
    await events.return?.(undefined);
  }
}, 180_000);

function configMap(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name },
    data: { payload: PAYLOAD },
  } as KubeObject;
}
