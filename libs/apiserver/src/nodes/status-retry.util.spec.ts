import { statusRetryDelayMs } from './status-retry.util';

describe('statusRetryDelayMs', () => {
  it.each([
    { code: 503, attempt: 1, delay: 1000 },
    { code: 503, attempt: 2, delay: 2000 },
    { code: 504, attempt: 5, delay: 16_000 },
    { code: 500, attempt: 6, delay: 30_000 },
    // Never given up on while the stream lives: etcd may be away for minutes.
    { code: 503, attempt: 9, delay: 30_000 },
    { code: 503, attempt: 1000, delay: 30_000 },
    { code: 409, attempt: 3, delay: 4000 },
    { code: 429, attempt: 1, delay: 1000 },
    { code: undefined, attempt: 1, delay: 1000 },
    { code: 422, attempt: 1, delay: undefined },
    { code: 403, attempt: 1, delay: undefined },
    { code: 400, attempt: 2, delay: undefined },
  ])('$code on attempt $attempt: $delay', ({ code, attempt, delay }) => {
    expect(statusRetryDelayMs({ code, attempt })).toBe(delay);
  });
});
