// How long an agent waits before dialing the apiserver again: doubling from an initial delay up to a
// cap, spread by jitter so a fleet of agents that lost the same apiserver does not return in step
// (gRPC's connection back-off does the same).
//
// Worked example, initial 500 ms, factor 2, cap 30 s, jitter 0.2: attempt 0 waits 400–600 ms,
// attempt 3 waits 3.2–4.8 s (4 s ± 20 %), attempt 10 and later 24–30 s (never above the cap).

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Fraction of the delay spread either way (default 0.2). */
  jitter?: number;
}

export const DEFAULT_RECONNECT_BACKOFF: BackoffOptions = {
  initialMs: 500,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.2,
};

/** `attempt` counts failures since the last good connection (0 = the first retry); `random` is in [0, 1). */
export function reconnectDelay(attempt: number, options: BackoffOptions, random: number): number {
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.2;
  // Past the cap the exponent only overflows; stop growing there.
  const base = Math.min(options.maxMs, options.initialMs * factor ** Math.min(attempt, 64));
  const spread = base * (1 + jitter * (2 * random - 1));
  return Math.round(Math.min(options.maxMs, Math.max(0, spread)));
}
