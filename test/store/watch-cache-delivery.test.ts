// What a watcher of the watch cache is owed: every event after its revision, in order, or an explicit
// close. Two paths the apiserver takes at scale: a watcher resuming from before a (here tiny) window is
// served by etcd with a backlog of large objects, and 1,000 node agents' watches indexed by
// spec.nodeName, which must see exactly what an unindexed watcher with the same filter sees.
import { randomUUID } from 'node:crypto';
import { fieldValue, type KubeObject } from '@flotilla/api';
import { EtcdStore, WatchCache, type CacheEvent, type StoreError } from '@flotilla/store';
import { requireTestEnv, until } from '../support/eventually';

const etcdUrl = requireTestEnv('FLOTILLA_TEST_ETCD');

function pod(name: string, nodeName: string, padding = 0): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      ...(padding ? { annotations: { padding: 'x'.repeat(padding) } } : {}),
    },
    spec: nodeName ? { nodeName } : {},
  } as KubeObject;
}

describe('WatchCache delivery', () => {
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
  const startCache = async (
    options: { windowSize?: number; indexed?: boolean } = {},
  ): Promise<WatchCache> => {
    const cache = new WatchCache({
      store,
      prefix,
      ...(options.windowSize !== undefined ? { windowSize: options.windowSize } : {}),
      ...(options.indexed
        ? { trigger: { field: 'spec.nodeName', valueOf: (object) => fieldValue(object, 'spec.nodeName') } }
        : {}),
    });
    caches.push(cache);
    await cache.start();
    return cache;
  };

  it('serves a watcher from before its window every event of a multi-megabyte backlog, in order', async () => {
    const cache = await startCache({ windowSize: 16 });
    const first = await store.create(`${prefix}default/p-0`, pod('p-0', '', 6000));
    const from = Number(first.metadata?.resourceVersion) - 1;
    let last = Number(first.metadata?.resourceVersion);
    for (let i = 1; i < 1200; i++) {
      const created = await store.create(`${prefix}default/p-${i}`, pod(`p-${i}`, '', 6000));
      last = Number(created.metadata?.resourceVersion);
    }
    await cache.waitForRevision(last, 10_000);
    expect(cache.windowStart).toBeGreaterThan(from);
    const revisions: number[] = [];
    const closed: StoreError[] = [];
    const watch = await cache.watch({
      fromRevision: from,
      filter: () => true,
      onEvent: (event) => revisions.push(event.revision),
      onClose: (reason) => closed.push(reason),
    });
    try {
      await until(
        'the whole backlog or a close',
        () => Promise.resolve(revisions.at(-1) === last || closed.length > 0 ? true : undefined),
        60_000,
      );
      expect(closed).toEqual([]);
      expect(revisions).toHaveLength(1200);
      expect(revisions[0]).toBe(from + 1);
      expect(revisions.every((revision, i) => i === 0 || revision > (revisions[i - 1] ?? 0))).toBe(true);
    } finally {
      watch.close();
    }
  }, 120_000);

  it('offers an indexed watcher exactly the events an unindexed one with its filter receives', async () => {
    const cache = await startCache({ indexed: true });
    const onNode = (node: string) => (object: KubeObject) => fieldValue(object, 'spec.nodeName') === node;
    const seen = new Map<string, CacheEvent[]>();
    const watches = await Promise.all(
      ['indexed-a', 'plain-a', 'indexed-b'].map((name) => {
        const events: CacheEvent[] = [];
        seen.set(name, events);
        const node = name.endsWith('-a') ? 'node-a' : 'node-b';
        return cache.watch({
          filter: onNode(node),
          ...(name.startsWith('indexed') ? { triggerValue: node } : {}),
          onEvent: (event) => events.push(event),
          onClose: () => undefined,
        });
      }),
    );
    try {
      // Pending, bound to a, status change on a, moved to b (not possible in Kubernetes, but a
      // selector watch must see it leave), deleted on b; another pod only ever on b.
      const key = `${prefix}default/web`;
      const created = await store.create(key, pod('web', ''));
      const onA = await store.update(key, pod('web', 'node-a'), Number(created.metadata?.resourceVersion));
      const statusOnA = await store.update(
        key,
        { ...pod('web', 'node-a'), status: { phase: 'Running' } } as KubeObject,
        Number(onA.metadata?.resourceVersion),
      );
      const onB = await store.update(key, pod('web', 'node-b'), Number(statusOnA.metadata?.resourceVersion));
      await store.delete(key, Number(onB.metadata?.resourceVersion));
      const other = await store.create(`${prefix}default/other`, pod('other', 'node-b'));
      await cache.waitForRevision(Number(other.metadata?.resourceVersion), 10_000);

      const summary = (name: string): string[] =>
        (seen.get(name) ?? []).map((event) => `${event.type} ${event.object.metadata?.name ?? ''}`);
      expect(summary('plain-a')).toEqual(['ADDED web', 'MODIFIED web', 'DELETED web']);
      expect(summary('indexed-a')).toEqual(summary('plain-a'));
      expect((seen.get('indexed-a') ?? []).map((event) => event.revision)).toEqual(
        (seen.get('plain-a') ?? []).map((event) => event.revision),
      );
      expect(summary('indexed-b')).toEqual(['ADDED web', 'DELETED web', 'ADDED other']);
      // Every event up to the cache's revision was considered for the indexed watcher: a safe bookmark.
      expect(watches[0]?.revision).toBe(cache.revision);
    } finally {
      watches.forEach((watch) => watch.close());
    }
  });
  it('starts an indexed watcher with the current objects an unindexed one with its filter starts with', async () => {
    const cache = await startCache({ indexed: true });
    const onNode = (node: string) => (object: KubeObject) => fieldValue(object, 'spec.nodeName') === node;
    // Created on a, then moved or deleted: the index must follow each object's latest node.
    const written: KubeObject[] = [];
    for (const [name, node] of [
      ['p1', 'node-a'],
      ['p2', 'node-a'],
      ['p3', ''],
      ['p4', 'node-b'],
    ] as const) {
      written.push(await store.create(`${prefix}default/${name}`, pod(name, node)));
    }
    const p2 = written[1];
    const p3 = written[2];
    const p4 = written[3];
    await store.update(`${prefix}default/p2`, pod('p2', 'node-b'), Number(p2?.metadata?.resourceVersion));
    await store.update(`${prefix}default/p3`, pod('p3', 'node-a'), Number(p3?.metadata?.resourceVersion));
    const last = await store.delete(`${prefix}default/p4`, Number(p4?.metadata?.resourceVersion));
    await cache.waitForRevision(Number(last.metadata?.resourceVersion), 10_000);

    const initial = async (node: string, indexed: boolean): Promise<string[]> => {
      const names: string[] = [];
      const watch = await cache.watch({
        filter: onNode(node),
        ...(indexed ? { triggerValue: node } : {}),
        onEvent: (event) => names.push(`${event.type} ${event.object.metadata?.name ?? ''}`),
        onClose: () => undefined,
      });
      watch.close();
      return names;
    };
    expect(await initial('node-a', false)).toEqual(['ADDED p1', 'ADDED p3']);
    expect(await initial('node-a', true)).toEqual(await initial('node-a', false));
    expect(await initial('node-b', false)).toEqual(['ADDED p2']);
    expect(await initial('node-b', true)).toEqual(await initial('node-b', false));
    expect(await initial('node-c', true)).toEqual([]);
  });
});
