// Real etcd and Redis for integration tests: each run gets its own data directory and free
// loopback ports, so test runs never share state with each other or with a user's cluster.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningService {
  readonly url: string;
  readonly process: ChildProcess;
  readonly dataDir: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
}

function requireBinary(name: string, pkg: string): void {
  const { status } = spawnSync('sh', ['-c', `command -v ${name}`]);
  if (status !== 0) {
    throw new Error(`${name} is not installed: run 'bash scripts/setup.sh' (it installs Debian's ${pkg})`);
  }
}

export async function startEtcd(): Promise<RunningService> {
  requireBinary('etcd', 'etcd-server');
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-test-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const child = spawn(
    'etcd',
    [
      '--data-dir', dataDir,
      '--listen-client-urls', url,
      '--advertise-client-urls', url,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `default=http://127.0.0.1:${peerPort}`,
      '--log-level', 'error',
    ],
    { stdio: 'ignore', detached: false },
  );
  await waitFor(async () => {
    try {
      const res = await fetch(`${url}/health`);
      return res.ok;
    } catch {
      return false;
    }
  }, 'etcd');
  return { url, process: child, dataDir };
}

export async function startRedis(): Promise<RunningService> {
  requireBinary('redis-server', 'redis-server');
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-test-redis-'));
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.write('PING\r\n');
        });
        socket.once('data', (d: Buffer) => {
          socket.destroy();
          resolve(d.toString().startsWith('+PONG'));
        });
        socket.once('error', () => resolve(false));
      }),
    'redis',
  );
  return { url: `redis://127.0.0.1:${port}`, process: child, dataDir };
}

export function stopService(service: RunningService): void {
  service.process.kill('SIGTERM');
  rmSync(service.dataDir, { recursive: true, force: true });
}
