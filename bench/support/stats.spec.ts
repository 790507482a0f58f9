import { percentile, runLoad } from './stats';

describe('benchmark statistics', () => {
  it.each([
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99, 10],
    [[7], 0.99, 7],
    [[], 0.5, 0],
  ])('percentile of %j at %s is %s', (values, q, expected) => {
    expect(percentile(values, q)).toBe(expected);
  });

  it('runs exactly the requested operations, each once, at most `concurrency` at a time', async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const result = await runLoad({
      operations: 50,
      concurrency: 4,
      operation: async (index) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setImmediate(r));
        seen.push(index);
        inFlight--;
      },
    });
    expect(result.operations).toBe(50);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(maxInFlight).toBe(4);
  });
});
