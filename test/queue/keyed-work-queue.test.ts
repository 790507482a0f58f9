import { randomUUID } from 'node:crypto';
import { KeyedWorkQueue } from '@flotilla/queue';
import { eventually, requireTestEnv } from '../support/eventually';

const redisUrl = requireTestEnv('FLOTILLA_TEST_REDIS');

describe('KeyedWorkQueue on real Redis', () => {
  const queues: KeyedWorkQueue[] = [];
  const open = (
    name: string,
    extra: Partial<ConstructorParameters<typeof KeyedWorkQueue>[0]> = {},
  ): KeyedWorkQueue => {
    const queue = new KeyedWorkQueue({ name, redisUrl, ...extra });
    queues.push(queue);
    return queue;
  };
  afterEach(async () => {
    for (const queue of queues.splice(0)) {
      await queue.obliterate().catch(() => undefined);
      await queue.close();
    }
  });

  it('collapses a burst of adds for one waiting key into one reconcile', async () => {
    const queue = open(`burst-${randomUUID()}`);
    await Promise.all(Array.from({ length: 100 }, () => queue.add('web/web')));
    await queue.add('web/api');
    const seen: string[] = [];
    queue.process(async (key) => {
      seen.push(key);
    });
    await eventually(() => seen.length >= 2, 'both keys');
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.sort()).toEqual(['web/api', 'web/web']);
  });

  it('reconciles a key again when it was added during its reconcile', async () => {
    const queue = open(`dirty-${randomUUID()}`);
    let calls = 0;
    let release: () => void = () => undefined;
    const firstRunning = new Promise<void>((resolve) => {
      queue.process(async () => {
        calls++;
        if (calls === 1) {
          resolve();
          await new Promise<void>((r) => (release = r));
        }
      });
    });
    await queue.add('web/web');
    await firstRunning;
    await queue.add('web/web');
    release();
    await eventually(() => calls === 2, 'a second reconcile');
  });

  it('retries a failing reconcile with back-off until it succeeds', async () => {
    const failures: string[] = [];
    const queue = open(`retry-${randomUUID()}`, {
      backoff: { baseMs: 20, capMs: 200 },
      onError: (key) => failures.push(key),
    });
    let calls = 0;
    queue.process(async () => {
      calls++;
      if (calls < 3) throw new Error('conflict, try again');
    });
    await queue.add('web/web');
    await eventually(() => calls === 3, 'the third attempt');
    expect(failures).toEqual(['web/web', 'web/web']);
  });

  it('never runs two reconciles of one key at once across workers', async () => {
    const name = `exclusive-${randomUUID()}`;
    const producer = open(name);
    const workers = [open(name, { concurrency: 4 }), open(name, { concurrency: 4 })];
    let running = 0;
    let maxRunning = 0;
    let done = 0;
    for (const worker of workers) {
      worker.process(async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        done++;
      });
    }
    for (let i = 0; i < 10; i++) {
      await producer.add('web/web');
      await new Promise((r) => setTimeout(r, 10));
    }
    await eventually(() => done >= 2 && running === 0, 'the reconciles to finish');
    await new Promise((r) => setTimeout(r, 200));
    expect(maxRunning).toBe(1);
  });

  it('re-adds every key on resync', async () => {
    const seen = new Set<string>();
    const queue = open(`resync-${randomUUID()}`, {
      resync: { intervalMs: 100, keys: async () => ['a/one', 'b/two'] },
    });
    queue.process(async (key) => {
      seen.add(key);
    });
    await eventually(() => seen.size === 2, 'resynced keys');
    expect([...seen].sort()).toEqual(['a/one', 'b/two']);
  });
});
