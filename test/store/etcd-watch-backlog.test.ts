// A store watch that starts (or falls) far behind: etcd sends the backlog in responses of up to
// 1,000 revisions each, with the previous values, so one response can be many megabytes. Every event
// must still arrive once, in order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '@flotilla/api';
import { freePort, startEtcd, stopProcess } from '@flotilla/cluster';
import { EtcdStore, type StoreError } from '@flotilla/store';
import { until } from '../support/eventually';
import { claimTestDir } from '../support/leftovers';

const COUNT = 1500;

function pod(name: string, generation: number): KubeObject {
  // About 6 KB each: a bound pod with status and managed fields is 3-6 KB.
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      annotations: { padding: 'x'.repeat(6000), generation: String(generation) },
    },
  };
}

describe('EtcdStore watch of a large backlog', () => {
  const root = mkdtempSync(join(tmpdir(), 'flotilla-test-watch-backlog-'));
  claimTestDir(root);
  let pid: number | undefined;
  afterAll(async () => {
    if (pid !== undefined) await stopProcess(pid);
    rmSync(root, { recursive: true, force: true });
  });

  it('delivers every event of a backlog whose responses exceed 4 MiB', async () => {
    const etcd = await startEtcd({
      dataDir: join(root, 'etcd'),
      logDir: root,
      clientPort: await freePort(),
      peerPort: await freePort(),
    });
    pid = etcd.pid;
    const store = new EtcdStore({ endpoints: [etcd.url], callTimeoutMs: 5000 });
    try {
      const created: KubeObject[] = [];
      for (let i = 0; i < COUNT; i++)
        created.push(await store.create(`/registry/core/pods/default/p-${i}`, pod(`p-${i}`, 0)));
      const start = Number(created[0]?.metadata?.resourceVersion) - 1;
      // Updates carry the previous value too: twice the bytes per event.
      let last = 0;
      for (const [i, object] of created.entries()) {
        const updated = await store.update(
          `/registry/core/pods/default/p-${i}`,
          pod(`p-${i}`, 1),
          Number(object.metadata?.resourceVersion),
        );
        last = Number(updated.metadata?.resourceVersion);
      }
      const revisions: number[] = [];
      const errors: StoreError[] = [];
      const watch = await store.watch('/registry/core/pods/', {
        fromRevision: start,
        onEvent: (event) => revisions.push(event.revision),
        onError: (error) => errors.push(error),
      });
      try {
        // Before the fix nothing at all arrived and no error was reported: the watch stalled.
        const settled = await until(
          'every event or an error',
          () => Promise.resolve(revisions.at(-1) === last || errors.length > 0 ? true : undefined),
          60_000,
        ).catch(() => false);
        expect({ settled, errors: errors.map((error) => error.message), received: revisions.length }).toEqual(
          {
            settled: true,
            errors: [],
            received: 2 * COUNT,
          },
        );
        expect(revisions[0]).toBe(start + 1);
        expect(revisions.every((revision, i) => i === 0 || revision > (revisions[i - 1] ?? 0))).toBe(true);
      } finally {
        watch.close();
      }
    } finally {
      await store.close();
    }
  }, 180_000);
});
