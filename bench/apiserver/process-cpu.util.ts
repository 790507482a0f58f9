// CPU time of another process from its /proc/<pid>/stat line, so the benchmark can report the
// apiserver's and etcd's CPU cost per request: throughput on a shared 2-core machine is noisy, CPU
// time per request much less so.
//
// Worked example: "1234 (etcd) S 1 ... " with utime 250 and stime 50 ticks (fields 14 and 15) at
// 100 ticks per second is (250 + 50) / 100 s = 3000 ms.

/**
 * User + system CPU milliseconds from the text of /proc/<pid>/stat. The command name (field 2) may
 * contain spaces and parentheses, so fields are counted from the last ")".
 */
export function cpuMsFromProcStat(stat: string, ticksPerSecond: number): number {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  // After ")" come field 3 (state) onwards; utime and stime are fields 14 and 15.
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`no utime/stime in /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  }
  return ((utime + stime) * 1000) / ticksPerSecond;
}

/** CPU milliseconds per operation between two readings, rounded to hundredths. */
export function cpuMsPerOperation(options: { before: number; after: number; operations: number }): number {
  if (options.operations <= 0) return 0;
  return Math.round(((options.after - options.before) / options.operations) * 100) / 100;
}
