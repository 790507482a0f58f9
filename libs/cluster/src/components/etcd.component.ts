import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries';
import { ensurePortsFree } from './ports';
import { startDetached, waitUntilReady, type StartedProcess } from '../processes/supervised-process';

export interface EtcdOptions {
  /** Holds member data; reusing it across starts keeps the cluster's state. */
  readonly dataDir: string;
  readonly logDir: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly host?: string;
}

export interface RunningEtcd extends StartedProcess {
  readonly url: string;
}

export async function startEtcd(options: EtcdOptions): Promise<RunningEtcd> {
  const binary = requireBinary('etcd', 'etcd-server');
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host}:${options.clientPort}`;
  const peerUrl = `http://${host}:${options.peerPort}`;
  await ensurePortsFree('etcd', [options.clientPort, options.peerPort], host);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const started = startDetached({
    name: 'etcd',
    command: binary,
    args: [
      '--name',
      'flotilla',
      '--data-dir',
      options.dataDir,
      '--listen-client-urls',
      url,
      '--advertise-client-urls',
      url,
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--initial-cluster',
      `flotilla=${peerUrl}`,
      // No --auto-compaction: the apiservers compact history themselves (every 5 minutes, as
      // kube-apiserver does), so their watch caches know where history starts and answer 410 Gone.
      '--quota-backend-bytes',
      String(2 * 1024 ** 3),
      '--log-level',
      'warn',
    ],
    logFile: join(options.logDir, 'etcd.log'),
    // etcd 3.4 refuses to start on architectures other than amd64 unless told this explicitly.
    env: process.arch === 'x64' ? process.env : { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch },
  });
  await waitUntilReady(started, () => etcdHealthy(url), { timeoutMs: 30_000 });
  return { ...started, url };
}

export async function etcdHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    if (!response.ok) return false;
    const body = (await response.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}
