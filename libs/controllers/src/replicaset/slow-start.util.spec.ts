import { slowStart, slowStartBatches } from './slow-start.util';

describe('slowStartBatches', () => {
  it.each([
    [0, 1, []],
    [1, 1, [1]],
    [3, 1, [1, 2]],
    [10, 1, [1, 2, 4, 3]],
    [16, 1, [1, 2, 4, 8, 1]],
    [10, 4, [4, 6]],
  ])('%p calls from batch size %p → %p', (count, initial, batches) => {
    expect(slowStartBatches(count, initial)).toEqual(batches);
  });
});

describe('slowStart', () => {
  it('stops after the first batch with a failure', async () => {
    const calls: number[] = [];
    const result = await slowStart(10, async (index) => {
      calls.push(index);
      if (index === 2) throw new Error('quota exceeded');
    });
    // Batches 1 and 2 ran (indexes 0, 1, 2); the failure in the second stopped the rest.
    expect(calls.sort()).toEqual([0, 1, 2]);
    expect(result.successes).toBe(2);
    expect(String(result.error)).toContain('quota exceeded');
  });

  it('reports every success when nothing fails', async () => {
    expect(await slowStart(7, async () => undefined)).toEqual({ successes: 7 });
  });
});
