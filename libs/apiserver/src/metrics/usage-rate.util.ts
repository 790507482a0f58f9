// CPU arrives as cumulative nanoseconds of CPU time; the metrics API reports a rate in cores over the
// window between two samples, as metrics-server does. Worked example: a container at 1.000s of CPU
// time at 10:00:00.000 and at 2.250s at 10:00:05.000 used 1.25 s of CPU in 5 s of wall time, so
// 1_250_000_000 ns × 1000 / 5000 ms = 250_000_000 nanocores, served as "250m" with window "5s".
import { Quantity } from '@flotilla/api';

/** Below this, two samples are too close for a meaningful rate (a resend, not a new reading). */
export const MIN_WINDOW_MS = 100;

export interface CumulativeCpuSample {
  /** When the sample was read (RFC 3339, the reader's clock). */
  time: string;
  /** CPU time used since the cgroup was created. */
  cpuNanos: bigint;
}

export interface CpuRate {
  nanocores: bigint;
  windowMs: number;
  /** The later sample's time: the end of the window. */
  timestamp: string;
}

/**
 * The CPU rate between two samples of the same cgroup, or undefined when it cannot be known: the
 * samples are too close or out of order, or the counter went backwards (a restarted container has a
 * new cgroup; metrics-server drops such a pair too rather than report a negative or spiked rate).
 */
export function cpuRate(previous: CumulativeCpuSample, latest: CumulativeCpuSample): CpuRate | undefined {
  const windowMs = Date.parse(latest.time) - Date.parse(previous.time);
  if (!Number.isFinite(windowMs) || windowMs < MIN_WINDOW_MS) return undefined;
  if (latest.cpuNanos < previous.cpuNanos) return undefined;
  const nanocores = ((latest.cpuNanos - previous.cpuNanos) * 1000n) / BigInt(windowMs);
  return { nanocores, windowMs, timestamp: latest.time };
}

/** Cores as Kubernetes serialises a nano-scaled quantity: "250m", "1", "1234567n". */
export function formatCores(nanocores: bigint): string {
  return Quantity.fromNanos(nanocores).toString();
}

/** Bytes as a binary quantity: "64Mi" when exact, plain bytes otherwise, as metrics-server serves them. */
export function formatBytes(bytes: bigint): string {
  return Quantity.fromInteger(bytes, 'BinarySI').toString();
}

/**
 * A window as Go's time.Duration prints it (metrics-server's "window" field): "5s", "4.998s",
 * "1m30s", "500ms".
 */
export function formatWindow(windowMs: number): string {
  const ms = Math.max(0, Math.round(windowMs));
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const secondsMs = ms % 60_000;
  const whole = Math.floor(secondsMs / 1000);
  const fraction = secondsMs % 1000;
  const seconds =
    fraction === 0 ? `${whole}` : `${whole}.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
