import { retryDelayMs } from './backoff.util';

describe('retryDelayMs', () => {
  it.each([
    [1, 5],
    [2, 10],
    [3, 20],
    [10, 2560],
    [20, 1_000_000],
    [1000, 1_000_000],
    [0, 5],
    [-3, 5],
  ])('attempt %s waits %s ms with the default policy', (attempt, expected) => {
    expect(retryDelayMs(attempt)).toBe(expected);
  });

  it('honours a custom policy', () => {
    expect(retryDelayMs(4, { baseMs: 100, capMs: 500 })).toBe(500);
    expect(retryDelayMs(2, { baseMs: 100, capMs: 500 })).toBe(200);
  });
});
