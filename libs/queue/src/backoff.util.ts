// Retry delays for failed reconciles, as Kubernetes' per-item exponential rate limiter computes them:
// base × 2^(attempt−1), capped.
//
// Worked example with base 5 ms and cap 1000 s: attempts 1, 2, 3, 10, 20, 30 wait
// 5 ms, 10 ms, 20 ms, 2.56 s, 43.7 min → capped to 1000 s, 1000 s.

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 5, capMs: 1_000_000 };

export function retryDelayMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (!Number.isInteger(attempt) || attempt < 1) return policy.baseMs;
  // Past 2^40 the product overflows double precision usefulness; the cap has long been reached.
  const exponent = Math.min(attempt - 1, 40);
  return Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
}
