import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import {
  freePort,
  isAlive,
  redisAnswers,
  startDetached,
  startEtcd,
  startRedis,
  stopProcess,
  waitUntilReady,
} from '@flotilla/cluster';

describe('local cluster components', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'flotilla-components-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('restarts etcd on the same data directory and finds the same state', async () => {
    const options = {
      dataDir: join(root, 'etcd'),
      logDir: root,
      clientPort: await freePort(),
      peerPort: await freePort(),
    };
    const first = await startEtcd(options);
    const client = new Etcd3({ hosts: first.url });
    await client.put('/registry/test/key').value('kept');
    client.close();
    await stopProcess(first.pid);
    expect(isAlive(first.pid)).toBe(false);

    const second = await startEtcd(options);
    const again = new Etcd3({ hosts: second.url });
    try {
      expect(await again.get('/registry/test/key').string()).toBe('kept');
    } finally {
      again.close();
      await stopProcess(second.pid);
    }
  });

  it('starts Redis and stops it', async () => {
    const port = await freePort();
    const redis = await startRedis({ dataDir: join(root, 'redis'), logDir: root, port });
    expect(await redisAnswers('127.0.0.1', port)).toBe(true);
    await stopProcess(redis.pid);
    expect(await redisAnswers('127.0.0.1', port)).toBe(false);
  });

  it('refuses to start a component on a port that is taken, naming it', async () => {
    const port = await freePort();
    const first = await startRedis({ dataDir: join(root, 'r1'), logDir: join(root, 'a'), port });
    try {
      await expect(startRedis({ dataDir: join(root, 'r2'), logDir: join(root, 'b'), port })).rejects.toThrow(
        /redis: port 127.0.0.1:\d+ is already in use/,
      );
    } finally {
      await stopProcess(first.pid);
    }
  });

  it('reports a component that dies during start-up with the end of its log', async () => {
    const started = startDetached({
      name: 'broken',
      command: 'sh',
      args: ['-c', 'echo "listen tcp: bad flag --nope" >&2; exit 3'],
      logFile: join(root, 'broken.log'),
    });
    await expect(waitUntilReady(started, async () => false, { timeoutMs: 10_000 })).rejects.toThrow(
      /broken exited during start-up; last lines of .*broken\.log:\nlisten tcp: bad flag --nope/,
    );
  });
});
