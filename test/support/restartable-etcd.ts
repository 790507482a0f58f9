// An etcd of the test's own that it can stop and start again on the same data and ports, for tests of
// what clients do across an etcd restart (the suite's shared etcd must never go away).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startEtcd, stopProcess } from '@flotilla/cluster';
import { claimTestDir } from './leftovers';

export interface RestartableEtcd {
  /** Starts etcd (again, on the same data dir and ports) and resolves with its client URL. */
  start(): Promise<string>;
  /** Stops it if it runs. */
  stop(): Promise<void>;
  /** Stops it and removes its data; for afterAll. */
  dispose(): Promise<void>;
}

/** `label` names the temporary directory, so a leftover says which test left it. */
export function restartableEtcd(label: string): RestartableEtcd {
  const root = mkdtempSync(join(tmpdir(), `flotilla-test-${label}-`));
  claimTestDir(root);
  let ports: { clientPort: number; peerPort: number } | undefined;
  let pid: number | undefined;
  const stop = async (): Promise<void> => {
    if (pid === undefined) return;
    const running = pid;
    pid = undefined;
    await stopProcess(running);
  };
  return {
    async start() {
      ports ??= { clientPort: await freePort(), peerPort: await freePort() };
      const etcd = await startEtcd({ dataDir: join(root, 'etcd'), logDir: root, ...ports });
      pid = etcd.pid;
      return etcd.url;
    },
    stop,
    async dispose() {
      await stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
