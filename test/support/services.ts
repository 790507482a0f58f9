// Real etcd and Redis for integration tests: each run gets its own data directory and free loopback
// ports, so test runs never share state with each other or with a user's cluster.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startEtcd, startRedis, stopProcess } from '@flotilla/cluster';
import { claimTestDir } from './leftovers';

export interface TestServices {
  readonly etcdUrl: string;
  readonly redisUrl: string;
  stop(): Promise<void>;
}

export async function startTestServices(): Promise<TestServices> {
  const root = mkdtempSync(join(tmpdir(), 'flotilla-test-services-'));
  claimTestDir(root);
  const [etcd, redis] = await Promise.all([
    (async () =>
      startEtcd({
        dataDir: join(root, 'etcd'),
        logDir: root,
        clientPort: await freePort(),
        peerPort: await freePort(),
      }))(),
    (async () => startRedis({ dataDir: join(root, 'redis'), logDir: root, port: await freePort() }))(),
  ]);
  return {
    etcdUrl: etcd.url,
    redisUrl: redis.url,
    async stop() {
      await Promise.all([stopProcess(etcd.pid), stopProcess(redis.pid)]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
