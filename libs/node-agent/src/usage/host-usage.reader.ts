// Reads the host's usage for node totals when the agent has no node cgroup of its own.
import { readFile } from 'node:fs/promises';
import { hostCpuNanos, hostMemoryWorkingSetBytes } from './host-usage.util';

export interface HostUsage {
  cpuUsageNanos: bigint;
  memoryBytes: number;
}

export interface HostUsageFiles {
  procStat?: string;
  meminfo?: string;
}

export async function readHostUsage(files: HostUsageFiles = {}): Promise<HostUsage> {
  const [stat, meminfo] = await Promise.all([
    readFile(files.procStat ?? '/proc/stat', 'utf8'),
    readFile(files.meminfo ?? '/proc/meminfo', 'utf8'),
  ]);
  return { cpuUsageNanos: hostCpuNanos(stat), memoryBytes: hostMemoryWorkingSetBytes(meminfo) };
}
