import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { requireBinary } from './binaries';
import { ensurePortsFree } from './ports';
import { startDetached, waitUntilReady, type StartedProcess } from '../processes/supervised-process';

export interface RedisOptions {
  readonly dataDir: string;
  readonly logDir: string;
  readonly port: number;
  readonly host?: string;
  /** Metrics and queues are soft state; persistence is off unless asked for. */
  readonly persist?: boolean;
}

export interface RunningRedis extends StartedProcess {
  readonly url: string;
}

export async function startRedis(options: RedisOptions): Promise<RunningRedis> {
  const binary = requireBinary('redis-server', 'redis-server');
  const host = options.host ?? '127.0.0.1';
  await ensurePortsFree('redis', [options.port], host);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const started = startDetached({
    name: 'redis',
    command: binary,
    args: [
      '--port',
      String(options.port),
      '--bind',
      host,
      '--dir',
      options.dataDir,
      '--save',
      options.persist ? '60 1' : '',
      '--appendonly',
      'no',
      // BullMQ requires that Redis never evicts its keys.
      '--maxmemory-policy',
      'noeviction',
    ],
    logFile: join(options.logDir, 'redis.log'),
  });
  await waitUntilReady(started, () => redisAnswers(host, options.port), { timeoutMs: 15_000 });
  return { ...started, url: `redis://${host}:${options.port}` };
}

export function redisAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data: Buffer) => done(data.toString().startsWith('+PONG')));
    socket.once('error', () => done(false));
  });
}
