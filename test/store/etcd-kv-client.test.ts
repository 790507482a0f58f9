// The store's own gRPC client when etcd is missing, silent, or restarted: every failure is a
// StoreError Unavailable that says what happened, and the next call after etcd is back succeeds.
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { KubeObject } from '@flotilla/api';
import { freePort } from '@flotilla/cluster';
import { EtcdStore, StoreError } from '@flotilla/store';
import { requireTestEnv, until } from '../support/eventually';
import { restartableEtcd } from '../support/restartable-etcd';

const etcdUrl = requireTestEnv('FLOTILLA_TEST_ETCD');

function pod(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' } };
}

async function failure(promise: Promise<unknown>): Promise<StoreError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('EtcdStore calls when etcd is not there', () => {
  it('fails with Unavailable, naming the key, when nothing listens', async () => {
    const port = await freePort();
    const store = new EtcdStore({ endpoints: [`http://127.0.0.1:${port}`], callTimeoutMs: 2000 });
    try {
      const error = await failure(store.get('/registry/core/pods/default/a'));
      expect(error.code).toBe('Unavailable');
      expect(error.message).toContain('get /registry/core/pods/default/a: etcd did not answer');
    } finally {
      await store.close();
    }
  });

  it('fails with Unavailable after the deadline when etcd accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const store = new EtcdStore({ endpoints: [`http://127.0.0.1:${port}`], callTimeoutMs: 300 });
    try {
      const error = await failure(store.currentRevision());
      expect(error.code).toBe('Unavailable');
      expect(error.message).toContain('DeadlineExceeded: no answer within 300 ms');
    } finally {
      await store.close();
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('fails with Unavailable when an https:// endpoint does not speak TLS, and refuses other schemes', async () => {
    const store = new EtcdStore({ endpoints: [etcdUrl.replace('http://', 'https://')], callTimeoutMs: 2000 });
    try {
      expect((await failure(store.currentRevision())).code).toBe('Unavailable');
    } finally {
      await store.close();
    }
    const unix = new EtcdStore({ endpoints: ['unix:///run/etcd.sock'] });
    try {
      expect((await failure(unix.currentRevision())).message).toContain('give an http:// or https:// URL');
    } finally {
      await unix.close();
    }
  });

  it('moves on to the next endpoint when the first one is down', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const store = new EtcdStore({ endpoints: [dead, etcdUrl], callTimeoutMs: 2000 });
    const key = `/registry/test-${randomUUID()}/pods/default/a`;
    try {
      const created = await until('a create through the second endpoint', () =>
        store.create(key, pod('a')).catch((error: unknown) => {
          if (error instanceof StoreError && error.code === 'Unavailable') return undefined;
          throw error;
        }),
      );
      expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
      expect((await store.get(key))?.metadata?.name).toBe('a');
    } finally {
      await store.close();
    }
  });
});

describe('EtcdStore calls across an etcd restart', () => {
  const etcd = restartableEtcd('etcd-restart');
  afterAll(() => etcd.dispose());

  it('answers Unavailable while etcd is down and reconnects once it is back', async () => {
    const store = new EtcdStore({ endpoints: [await etcd.start()], callTimeoutMs: 2000 });
    try {
      const created = await store.create('/registry/core/pods/default/a', pod('a'));
      await etcd.stop();
      const error = await failure(store.get('/registry/core/pods/default/a'));
      expect(error.code).toBe('Unavailable');

      await etcd.start();
      const found = await until('a read after etcd restarted', () =>
        store.get('/registry/core/pods/default/a').catch(() => undefined),
      );
      expect(found.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
      const updated = await store.update(
        '/registry/core/pods/default/a',
        { ...found, metadata: { ...found.metadata, labels: { restarted: 'yes' } } },
        Number(found.metadata?.resourceVersion),
      );
      expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(
        Number(created.metadata?.resourceVersion),
      );
    } finally {
      await store.close();
    }
  });
});

describe('EtcdStore under a burst of writes', () => {
  it('writes every one of 12,000 concurrent creates: the burst queues in the client, nothing is refused', async () => {
    // Sent all at once, such a burst met etcd's "too many requests" (over 5,000 proposals pending)
    // and Node's ENHANCE_YOUR_CALM (the HTTP/2 session past its memory limit) by the thousand; an
    // apiserver catching up on pod status writes sends bursts like it.
    const store = new EtcdStore({ endpoints: [etcdUrl], callTimeoutMs: 60_000 });
    const prefix = `/registry/core/configmaps/burst-${randomUUID()}`;
    const payload = 'x'.repeat(2048);
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 12_000 }, (_, index) =>
          store.create(`${prefix}/cm-${index}`, {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `cm-${index}`, namespace: 'burst' },
            data: { payload },
          } as KubeObject),
        ),
      );
      const failures = new Set(
        results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : [])),
      );
      expect([...failures]).toEqual([]);
      const listed = await store.list(`${prefix}/`, { limit: 1 });
      expect(listed.items.length + (listed.remainingItemCount ?? 0)).toBe(12_000);
    } finally {
      await store.close();
    }
  });

  it('counts the wait for a call slot against the deadline', async () => {
    const store = new EtcdStore({ endpoints: [etcdUrl], callTimeoutMs: 1 });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 3000 }, (_, index) => store.get(`/registry/core/configmaps/none/${index}`)),
      );
      const reasons = new Set(
        results.flatMap((result) =>
          result.status === 'rejected'
            ? [String((result.reason as Error).message).replace(/\/registry\S+/, 'KEY')]
            : [],
        ),
      );
      // Every call either answered within 1 ms or ended with DeadlineExceeded, queued ones too.
      for (const reason of reasons) expect(reason).toContain('DeadlineExceeded: no answer within 1 ms');
      expect(results.filter((result) => result.status === 'rejected').length).toBeGreaterThan(1024);
    } finally {
      await store.close();
    }
  });
});
