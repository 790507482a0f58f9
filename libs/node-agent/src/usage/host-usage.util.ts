// The whole host's usage, for a node agent that runs directly on its machine (no node cgroup of its
// own): CPU time from /proc/stat's aggregate line and the working set from /proc/meminfo, the figures
// the kubelet reports for its root cgroup. Worked example: "cpu  100 5 50 1000 20 3 2 0 0 0" is
// user+nice+system+irq+softirq+steal = 100+5+50+3+2+0 = 160 ticks of busy time (idle and iowait are
// not), at USER_HZ 100 that is 1.6 s = 1_600_000_000 ns; MemTotal 8000 kB, MemFree 1000 kB,
// Inactive(file) 2000 kB give a working set of (8000 − 1000 − 2000) × 1024 = 5_120_000 bytes.

/** Linux reports /proc/stat in USER_HZ, 100 on every architecture it builds for in practice. */
export const USER_HZ = 100;

export class HostUsageFormatError extends Error {}

export function hostCpuNanos(procStat: string, userHz = USER_HZ): bigint {
  const line = procStat.split('\n').find((candidate) => /^cpu\s/.test(candidate));
  if (!line) throw new HostUsageFormatError('/proc/stat has no aggregate "cpu" line');
  const fields = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map((field) => BigInt(/^\d+$/.test(field) ? field : 0));
  const at = (index: number): bigint => fields[index] ?? 0n;
  // user, nice, system, (idle), (iowait), irq, softirq, steal; guest time is already inside user.
  const busyTicks = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
  return (busyTicks * 1_000_000_000n) / BigInt(userHz);
}

export function hostMemoryWorkingSetBytes(meminfo: string): number {
  const kilobytes = new Map<string, number>();
  for (const line of meminfo.split('\n')) {
    const match = /^([^:]+):\s+(\d+)\s*kB/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) kilobytes.set(match[1], Number(match[2]));
  }
  const total = kilobytes.get('MemTotal');
  const free = kilobytes.get('MemFree');
  if (total === undefined || free === undefined) {
    throw new HostUsageFormatError('/proc/meminfo lacks MemTotal or MemFree');
  }
  const inactiveFile = kilobytes.get('Inactive(file)') ?? 0;
  return Math.max(0, total - free - inactiveFile) * 1024;
}
