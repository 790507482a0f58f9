import { LatestPerKeyQueue } from './latest-per-key.queue';

describe('LatestPerKeyQueue', () => {
  it('runs the first value, then only the newest of those that arrived meanwhile', async () => {
    const written: string[] = [];
    let release: () => void = () => undefined;
    const queue = new LatestPerKeyQueue<string>(
      async (key, value) => {
        written.push(`${key}=${value}`);
        if (value === '1') await new Promise<void>((resolve) => (release = resolve));
      },
      () => undefined,
    );
    queue.push('pod', '1');
    queue.push('pod', '2');
    queue.push('pod', '3');
    queue.push('other', 'x');
    expect(written).toEqual(['pod=1', 'other=x']);
    release();
    await queue.idle();
    expect(written).toEqual(['pod=1', 'other=x', 'pod=3']);
  });

  it('reports a failed write and goes on with the next value', async () => {
    const errors: string[] = [];
    const written: string[] = [];
    const queue = new LatestPerKeyQueue<string>(
      async (_key, value) => {
        if (value === 'bad') throw new Error('rejected');
        written.push(value);
      },
      (key, error) => errors.push(`${key}: ${String(error)}`),
    );
    queue.push('pod', 'bad');
    queue.push('pod', 'good');
    await queue.idle();
    expect(errors).toEqual(['pod: Error: rejected']);
    expect(written).toEqual(['good']);
  });

  it('retries a failed write after the delay given, unless a newer value came meanwhile', async () => {
    jest.useFakeTimers();
    try {
      const written: string[] = [];
      let failures = 2;
      const delays: number[] = [];
      const queue = new LatestPerKeyQueue<string>(
        async (key, value) => {
          if (value.startsWith('flaky') && failures-- > 0) throw new Error('etcd timed out');
          written.push(`${key}=${value}`);
        },
        () => undefined,
        (_key, _error, attempt) => {
          const delay = 1000 * 2 ** (attempt - 1);
          delays.push(delay);
          return delay;
        },
      );
      // Worked example: fails, retried after 1 s, fails, retried after 2 s, written.
      queue.push('pod/a', 'flaky-1');
      await jest.advanceTimersByTimeAsync(0);
      expect(written).toEqual([]);
      await jest.advanceTimersByTimeAsync(1000);
      expect(written).toEqual([]);
      await jest.advanceTimersByTimeAsync(2000);
      expect(written).toEqual(['pod/a=flaky-1']);
      expect(delays).toEqual([1000, 2000]);

      // A newer value supersedes the failed one: the retry of the old one never runs.
      failures = 1;
      queue.push('pod/b', 'flaky-old');
      await jest.advanceTimersByTimeAsync(0);
      queue.push('pod/b', 'new');
      await jest.advanceTimersByTimeAsync(0);
      await jest.advanceTimersByTimeAsync(10_000);
      expect(written).toEqual(['pod/a=flaky-1', 'pod/b=new']);

      // Stopped: pending retries are dropped.
      failures = 1;
      queue.push('pod/c', 'flaky-c');
      await jest.advanceTimersByTimeAsync(0);
      queue.stop();
      await jest.advanceTimersByTimeAsync(10_000);
      expect(written).toEqual(['pod/a=flaky-1', 'pod/b=new']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('retries the newest value, never an older one that failed while the newest waited', async () => {
    jest.useFakeTimers();
    try {
      const written: string[] = [];
      const failing = new Set(['creating', 'running']);
      let releaseFirst: () => void = () => undefined;
      const queue = new LatestPerKeyQueue<string>(
        async (_key, value) => {
          if (written.length === 0 && failing.has('creating'))
            await new Promise<void>((resolve) => (releaseFirst = resolve));
          // Each value fails once (etcd timed out), then goes through.
          if (failing.delete(value)) throw new Error('etcd timed out');
          written.push(value);
        },
        () => undefined,
        (_key, _error, attempt) => 1000 * 2 ** (attempt - 1),
      );
      // "creating" is in flight when "running" comes; both fail once. Only "running" may be retried:
      // "creating" written after it would be the pod's last status while it runs.
      queue.push('pod/a', 'creating');
      queue.push('pod/a', 'running');
      releaseFirst();
      await jest.advanceTimersByTimeAsync(60_000);
      expect(written).toEqual(['running']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('drops a failed write when no delay is given', async () => {
    let calls = 0;
    const queue = new LatestPerKeyQueue<string>(
      async () => {
        calls += 1;
        throw new Error('invalid');
      },
      () => undefined,
      () => undefined,
    );
    queue.push('heartbeat', 'x');
    await queue.idle();
    expect(calls).toBe(1);
  });
});
