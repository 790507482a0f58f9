// What this process may use: the memory and CPU caps of the cgroup it runs in (the tightest along its
// ancestors), else the host's. The node agent registers this as its capacity, so a node started inside
// a limited cgroup never promises the scheduler more than the kernel will give it.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { CgroupError, type CgroupVersion } from './cgroup.types';
import { DEFAULT_CGROUP_ROOT, detectCgroupVersion } from './cgroup-detect';
import { readOptionalControl } from './cgroup-files';
import { V1_UNLIMITED_THRESHOLD, countCpuList } from './cgroup-limits';
import { hostCgroupSystem, type CgroupSystem } from './cgroup-system';

export type CapacitySource = 'cgroup' | 'cpuset' | 'host';

export interface CgroupCapacity {
  memoryBytes: number;
  cpuMillicores: number;
  /** Where each figure came from: the cgroup's cap, its cpuset, or the whole host. */
  memorySource: CapacitySource;
  cpuSource: CapacitySource;
}

export interface CgroupCapacityOptions {
  root?: string;
  system?: CgroupSystem;
  version?: CgroupVersion;
  /** The process whose cgroup counts (default /proc/self/cgroup). */
  procCgroupFile?: string;
  /** Default /proc/meminfo. */
  meminfoFile?: string;
  /** Default: the CPUs this process may run on. */
  hostCpuCount?: number;
}

/** The cgroup path of each v1 controller ("memory" → "/a/b"), and the v2 path under "". */
export function parseProcCgroup(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, controllers = '', path = '/'] = match;
    for (const controller of controllers === '' ? [''] : controllers.split(',')) paths.set(controller, path);
  }
  return paths;
}

/** The cgroup's directory and its ancestors up to the hierarchy root, innermost first. */
export function cgroupAncestry(hierarchy: string, cgroupPath: string): string[] {
  const segments = cgroupPath.split('/').filter((segment) => segment !== '' && segment !== '.');
  // A path with ".." comes from a cgroup namespace that hides our real position: use the root only.
  if (segments.includes('..')) return [hierarchy];
  const directories: string[] = [];
  for (let depth = segments.length; depth >= 0; depth--)
    directories.push(join(hierarchy, ...segments.slice(0, depth)));
  return directories;
}

async function hostMemoryBytes(system: CgroupSystem, meminfoFile: string): Promise<number> {
  const meminfo = await system.readText(meminfoFile);
  const match = /^MemTotal:\s+(\d+)\s+kB$/m.exec(meminfo);
  if (!match?.[1]) throw new CgroupError(`${meminfoFile} has no "MemTotal: N kB" line; is /proc mounted?`);
  return Number(match[1]) * 1024;
}

interface Caps {
  memoryBytes?: number;
  cpuMillicores?: number;
  cpusetCpus?: number;
}

function tighter(current: number | undefined, candidate: number | undefined): number | undefined {
  if (candidate === undefined) return current;
  return current === undefined ? candidate : Math.min(current, candidate);
}

async function v2Caps(system: CgroupSystem, root: string, paths: Map<string, string>): Promise<Caps> {
  const caps: Caps = {};
  const directories = cgroupAncestry(root, paths.get('') ?? '/');
  for (const directory of directories) {
    const memoryMax = (await readOptionalControl(system, directory, 'memory.max'))?.trim();
    if (memoryMax && /^\d+$/.test(memoryMax)) caps.memoryBytes = tighter(caps.memoryBytes, Number(memoryMax));
    const [quota, period] = ((await readOptionalControl(system, directory, 'cpu.max')) ?? '')
      .trim()
      .split(/\s+/);
    if (quota && period && /^\d+$/.test(quota) && /^\d+$/.test(period) && Number(period) > 0) {
      caps.cpuMillicores = tighter(caps.cpuMillicores, Math.floor((Number(quota) * 1000) / Number(period)));
    }
  }
  const leaf = directories[0];
  const effective = leaf && (await readOptionalControl(system, leaf, 'cpuset.cpus.effective'));
  if (effective && effective.trim() !== '') caps.cpusetCpus = countCpuList(effective);
  return caps;
}

async function v1Caps(system: CgroupSystem, root: string, paths: Map<string, string>): Promise<Caps> {
  const caps: Caps = {};
  for (const directory of cgroupAncestry(join(root, 'memory'), paths.get('memory') ?? '/')) {
    const limit = (await readOptionalControl(system, directory, 'memory.limit_in_bytes'))?.trim();
    if (limit && /^\d+$/.test(limit) && Number(limit) < V1_UNLIMITED_THRESHOLD) {
      caps.memoryBytes = tighter(caps.memoryBytes, Number(limit));
    }
  }
  for (const directory of cgroupAncestry(join(root, 'cpu'), paths.get('cpu') ?? '/')) {
    const quota = (await readOptionalControl(system, directory, 'cpu.cfs_quota_us'))?.trim();
    const period = (await readOptionalControl(system, directory, 'cpu.cfs_period_us'))?.trim();
    if (quota && period && /^\d+$/.test(quota) && /^\d+$/.test(period) && Number(period) > 0) {
      caps.cpuMillicores = tighter(caps.cpuMillicores, Math.floor((Number(quota) * 1000) / Number(period)));
    }
  }
  const cpusetLeaf = cgroupAncestry(join(root, 'cpuset'), paths.get('cpuset') ?? '/')[0];
  const effective = cpusetLeaf && (await readOptionalControl(system, cpusetLeaf, 'cpuset.effective_cpus'));
  if (effective && effective.trim() !== '') caps.cpusetCpus = countCpuList(effective);
  return caps;
}

/** Memory and CPU this process may use, from its cgroup's limits or else the host's totals. */
export async function readCgroupCapacity(options: CgroupCapacityOptions = {}): Promise<CgroupCapacity> {
  const root = options.root ?? DEFAULT_CGROUP_ROOT;
  const system = options.system ?? hostCgroupSystem;
  const version = options.version ?? (await detectCgroupVersion(root, system));
  const paths = parseProcCgroup(await system.readText(options.procCgroupFile ?? '/proc/self/cgroup'));
  const caps = version === 'v2' ? await v2Caps(system, root, paths) : await v1Caps(system, root, paths);

  const hostMemory = await hostMemoryBytes(system, options.meminfoFile ?? '/proc/meminfo');
  const hostCpus = options.hostCpuCount ?? availableParallelism();
  const capacity: CgroupCapacity = {
    memoryBytes: hostMemory,
    cpuMillicores: hostCpus * 1000,
    memorySource: 'host',
    cpuSource: 'host',
  };
  if (caps.memoryBytes !== undefined && caps.memoryBytes < hostMemory) {
    capacity.memoryBytes = caps.memoryBytes;
    capacity.memorySource = 'cgroup';
  }
  if (caps.cpusetCpus !== undefined && caps.cpusetCpus * 1000 < capacity.cpuMillicores) {
    capacity.cpuMillicores = caps.cpusetCpus * 1000;
    capacity.cpuSource = 'cpuset';
  }
  if (caps.cpuMillicores !== undefined && caps.cpuMillicores < capacity.cpuMillicores) {
    capacity.cpuMillicores = caps.cpuMillicores;
    capacity.cpuSource = 'cgroup';
  }
  return capacity;
}
