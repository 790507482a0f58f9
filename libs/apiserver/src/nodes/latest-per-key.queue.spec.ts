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
});
