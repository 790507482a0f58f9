// Kubernetes' container restart back-off (kubelet's flowcontrol.Backoff keyed by pod and container):
// the first restart after a crash is immediate; each further crash waits twice as long as the one
// before, from the initial delay (10 s) up to the cap (5 min); a container that ran for longer than
// the reset window (twice the cap: 10 min) since its last restart starts over at the initial delay.
//
// Worked example with the defaults (initial 10 s, cap 300 s, reset 600 s), times in seconds:
//   crash at 5   (no entry)                → restart now,   entry {backoff 10, lastUpdate 5}
//   crash at 7   (7 - 7 < 10)              → wait until 17  (CrashLoopBackOff "back-off 10s")
//   at 17        (17 - 7 = 10, not < 10)   → restart now,   entry {backoff 20, lastUpdate 17}
//   crash at 18                            → wait until 38  ("back-off 20s")
//   ... 40, 80, 160, 300, 300 ...
//   crash at 1000 after running since 38   (1000 - 38 > 600) → restart now, entry {backoff 10, ...}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Time since the last restart after which the back-off starts over (default: twice maxMs). */
  resetMs?: number;
}

export const KUBERNETES_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000 };

/** What is remembered per container between crashes (persisted, so an agent restart keeps it). */
export interface BackoffEntry {
  backoffMs: number;
  /** When the last restart was allowed (epoch ms). */
  lastUpdateMs: number;
}

export type RestartDecision =
  { action: 'restart'; entry: BackoffEntry } | { action: 'wait'; untilMs: number; backoffMs: number };

export interface RestartDecisionInput {
  policy: BackoffPolicy;
  entry?: BackoffEntry;
  /** When the container that is to be restarted finished (epoch ms). */
  finishedAtMs: number;
  nowMs: number;
}

function expired(policy: BackoffPolicy, entry: BackoffEntry, atMs: number): boolean {
  return atMs - entry.lastUpdateMs > (policy.resetMs ?? policy.maxMs * 2);
}

export function restartDecision(input: RestartDecisionInput): RestartDecision {
  const { policy, entry, finishedAtMs, nowMs } = input;
  if (entry !== undefined && !expired(policy, entry, nowMs) && nowMs - finishedAtMs < entry.backoffMs) {
    return { action: 'wait', untilMs: finishedAtMs + entry.backoffMs, backoffMs: entry.backoffMs };
  }
  const fresh = entry === undefined || expired(policy, entry, finishedAtMs);
  const backoffMs = fresh ? policy.initialMs : Math.min(entry.backoffMs * 2, policy.maxMs);
  return { action: 'restart', entry: { backoffMs, lastUpdateMs: nowMs } };
}

/** "10s", "1m20s", "5m0s": how Go prints a time.Duration, as kubelet's back-off messages show it. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const totalSeconds = ms / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds - hours * 3600 - minutes * 60;
  const secondsText = `${Number.isInteger(seconds) ? seconds : Number(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}
