// A store watch across an etcd restart while it is still catching up on a backlog: every event is
// delivered once, in order, with nothing skipped. (etcd3 on its own resumes from the last response's
// header revision, etcd's current one, and would skip the part of the backlog not yet received.)
import type { KubeObject } from '@flotilla/api';
import { EtcdStore } from '@flotilla/store';
import { until } from '../support/eventually';
import { restartableEtcd } from '../support/restartable-etcd';

const COUNT = 3000;

function pod(name: string): KubeObject {
  // About a kilobyte each, so the backlog takes etcd several responses to send.
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', annotations: { padding: 'x'.repeat(1000) } },
  };
}

describe('EtcdStore watch across an etcd restart', () => {
  const etcd = restartableEtcd('watch-resume');
  afterAll(() => etcd.dispose());

  it('delivers a backlog and what follows exactly once, in order, across the restart', async () => {
    const store = new EtcdStore({ endpoints: [await etcd.start()], callTimeoutMs: 2000 });
    try {
      const first = await store.create('/registry/core/pods/default/p-0', pod('p-0'));
      const start = Number(first.metadata?.resourceVersion) - 1;
      for (let i = 1; i < COUNT; i++) await store.create(`/registry/core/pods/default/p-${i}`, pod(`p-${i}`));

      const revisions: number[] = [];
      const errors: unknown[] = [];
      let restarted: Promise<void> | undefined;
      const watch = await store.watch('/registry/core/pods/', {
        fromRevision: start,
        onEvent: (event) => {
          revisions.push(event.revision);
          // Restart etcd as soon as the backlog starts arriving.
          restarted ??= (async () => {
            await etcd.stop();
            await etcd.start();
          })();
        },
        onError: (error) => errors.push(error),
      });
      try {
        await until('the backlog to start', () =>
          Promise.resolve(restarted !== undefined ? true : undefined),
        );
        await restarted;
        // Writes after the restart arrive too.
        const after = await until('a write after the restart', () =>
          store.create('/registry/core/pods/default/after', pod('after')).catch(() => undefined),
        );
        const last = Number(after.metadata?.resourceVersion);
        await until(
          'every event',
          () => Promise.resolve(revisions.at(-1) === last ? true : undefined),
          60_000,
        );
        expect(errors).toEqual([]);
        expect(revisions).toHaveLength(COUNT + 1);
        expect(revisions.every((revision, i) => i === 0 || revision > (revisions[i - 1] ?? 0))).toBe(true);
        expect(revisions[0]).toBe(start + 1);
      } finally {
        watch.close();
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});
