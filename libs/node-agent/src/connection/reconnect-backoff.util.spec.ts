import { DEFAULT_RECONNECT_BACKOFF, reconnectDelay } from './reconnect-backoff.util';

describe('reconnectDelay', () => {
  it.each([
    [0, 0, 400],
    [0, 0.5, 500],
    [0, 0.999999, 600],
    [1, 0.5, 1000],
    [3, 0, 3200],
    [3, 0.5, 4000],
    [3, 0.999999, 4800],
    [6, 0.5, 30_000],
    [10, 0, 24_000],
    [10, 0.999999, 30_000],
    [1000, 0.5, 30_000],
  ])('attempt %s with random %s waits %s ms', (attempt, random, expected) => {
    expect(reconnectDelay(attempt, DEFAULT_RECONNECT_BACKOFF, random)).toBe(expected);
  });

  it('grows without jitter exactly by the factor', () => {
    const options = { initialMs: 100, maxMs: 1000, factor: 3, jitter: 0 };
    expect([0, 1, 2, 3].map((attempt) => reconnectDelay(attempt, options, 0.7))).toEqual([
      100, 300, 900, 1000,
    ]);
  });
});
