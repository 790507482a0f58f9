// Validation and unit conversions shared by both drivers, so v1 and v2 accept exactly the same limits
// and differ only in the files they write.
import { CgroupError, type CgroupLimits } from './cgroup.types';

export const DEFAULT_CPU_PERIOD_MICROS = 100_000;
/** The kernel refuses CFS quotas below 1 ms. */
export const MIN_CPU_QUOTA_MICROS = 1_000;
export const MIN_CPU_SHARES = 2;
export const MAX_CPU_SHARES = 262_144;
/** v1 reports "no limit" as PAGE_COUNTER_MAX rounded to a page; anything this large means unlimited. */
export const V1_UNLIMITED_THRESHOLD = 2 ** 62;

const CPU_LIST_PATTERN = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;
const SEGMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

function requireInteger(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new CgroupError(
      `cgroup limit ${name} must be an integer from ${min} to ${max}; got ${String(value)}`,
    );
  }
}

function requireCpuList(name: string, value: string | undefined): void {
  if (value === undefined) return;
  if (!CPU_LIST_PATTERN.test(value)) {
    throw new CgroupError(`cgroup limit ${name} must be a list like "0-3,6"; got ${JSON.stringify(value)}`);
  }
}

/** Rejects limits the kernel would refuse, before any file is written, with the reason. */
export function validateLimits(limits: CgroupLimits): void {
  // 4 KiB: one page. Smaller caps cannot hold even the task struct of the first process.
  requireInteger('memoryBytes', limits.memoryBytes, 4096, Number.MAX_SAFE_INTEGER);
  requireInteger('swapBytes', limits.swapBytes, 0, Number.MAX_SAFE_INTEGER);
  requireInteger('cpuPeriodMicros', limits.cpuPeriodMicros, 1_000, 1_000_000);
  requireInteger('cpuMillicores', limits.cpuMillicores, 1, 1_000_000);
  requireInteger('cpuShares', limits.cpuShares, MIN_CPU_SHARES, MAX_CPU_SHARES);
  requireInteger('pidsMax', limits.pidsMax, 1, 4_194_304);
  requireCpuList('cpusetCpus', limits.cpusetCpus);
  requireCpuList('cpusetMems', limits.cpusetMems);
  if (limits.swapBytes !== undefined && limits.swapBytes > 0 && limits.memoryBytes === undefined) {
    throw new CgroupError('cgroup limit swapBytes needs memoryBytes: swap is granted on top of a memory cap');
  }
}

/**
 * The CFS quota for a millicore cap, as Kubernetes computes it: quota = millicores * period / 1000,
 * raised to the kernel's 1 ms minimum.
 */
export function cpuQuotaMicros(millicores: number, periodMicros = DEFAULT_CPU_PERIOD_MICROS): number {
  return Math.max(MIN_CPU_QUOTA_MICROS, Math.floor((millicores * periodMicros) / 1000));
}

/**
 * cgroup v2 cpu.weight (1..10000) from v1 shares (2..262144), with Kubernetes' conversion
 * weight = 1 + ((shares - 2) * 9999) / 262142, so a pod gets the same relative weight on both.
 */
export function cpuWeightFromShares(shares: number): number {
  const clamped = Math.min(MAX_CPU_SHARES, Math.max(MIN_CPU_SHARES, shares));
  return 1 + Math.floor(((clamped - 2) * 9999) / 262142);
}

/**
 * Checks a cgroup path relative to the hierarchy root ("flotilla/pod-1/ctr") and returns its segments.
 * Paths come from names users chose, so ".." or absolute paths must never reach a mkdir.
 */
export function cgroupPathSegments(path: string): string[] {
  const segments = path.split('/');
  if (
    path.length === 0 ||
    path.length > 4096 ||
    !segments.every((segment) => SEGMENT_PATTERN.test(segment))
  ) {
    throw new CgroupError(
      `cgroup path ${JSON.stringify(path)} is not valid: use relative segments of letters, digits, ".", "_", ":" or "-" separated by "/", e.g. "flotilla/web-1"`,
    );
  }
  return segments;
}

/** Parses "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
export function parseFlatKeyed(text: string): Map<string, bigint> {
  const values = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value && /^-?\d+$/.test(value)) values.set(key, BigInt(value));
  }
  return values;
}

/** A bigint counter from the kernel as a number, refusing silent precision loss. */
export function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new CgroupError(`${what} (${value}) does not fit an exact number`);
  }
  return Number(value);
}

/** Counts the CPUs in a kernel list ("0-3,6" is 5). */
export function countCpuList(list: string): number {
  let count = 0;
  for (const range of list.trim().split(',')) {
    if (range === '') continue;
    const [first, last] = range.split('-').map(Number);
    if (first === undefined || Number.isNaN(first)) continue;
    count += last === undefined || Number.isNaN(last) ? 1 : last - first + 1;
  }
  return count;
}
