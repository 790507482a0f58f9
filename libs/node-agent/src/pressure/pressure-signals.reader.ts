// Reads the eviction signals where this agent's node ends: memory and PIDs from the cgroup the agent
// runs in (its tightest limited ancestor: on a test host or under `flotilla up`, the node's cgroup
// holds the agent and, below it, the pods), else the host's; disk from the file system of the state
// dir, where images, container layers and logs live (kubelet's nodefs and imagefs are one here).
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cgroupAncestry,
  DEFAULT_CGROUP_ROOT,
  detectCgroupVersion,
  hostCgroupSystem,
  parseProcCgroup,
  type CgroupSystem,
  type CgroupVersion,
} from '@flotilla/runtime';
import { memoryAvailable, type SignalObservation, type SignalObservations } from './eviction-threshold.util';

export interface PressureSignalsOptions {
  stateDir: string;
  cgroupRoot?: string;
  system?: CgroupSystem;
  version?: CgroupVersion;
  /** Whose cgroup counts (default /proc/self/cgroup). */
  procCgroupFile?: string;
  procDir?: string;
}

/** v1 memory.limit_in_bytes at or above this means "no limit" (the kernel reports PAGE_COUNTER_MAX pages). */
const V1_UNLIMITED = 2 ** 62;

async function readOptional(system: CgroupSystem, path: string): Promise<string | undefined> {
  try {
    return (await system.readText(path)).trim();
  } catch {
    return undefined;
  }
}

function integer(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

function statField(stat: string | undefined, key: string): number | undefined {
  const match = stat === undefined ? null : new RegExp(`^${key} (\\d+)$`, 'm').exec(stat);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The smaller available amount wins: the tightest limit is what runs out first. */
function tightest(current: SignalObservation | undefined, candidate: SignalObservation): SignalObservation {
  return current === undefined || candidate.available < current.available ? candidate : current;
}

export class PressureSignalsReader {
  private readonly root: string;
  private readonly system: CgroupSystem;
  private readonly procDir: string;

  constructor(private readonly options: PressureSignalsOptions) {
    this.root = options.cgroupRoot ?? DEFAULT_CGROUP_ROOT;
    this.system = options.system ?? hostCgroupSystem;
    this.procDir = options.procDir ?? '/proc';
  }

  async read(): Promise<SignalObservations> {
    const version = this.options.version ?? (await detectCgroupVersion(this.root, this.system));
    const paths = parseProcCgroup(
      await this.system.readText(this.options.procCgroupFile ?? join(this.procDir, 'self', 'cgroup')),
    );
    const [memory, pids, disk] = await Promise.all([
      this.memory(version, paths),
      this.pids(version, paths),
      this.disk(),
    ]);
    const observations: SignalObservations = { ...disk };
    if (memory) observations['memory.available'] = memory;
    if (pids) observations['pid.available'] = pids;
    return observations;
  }

  private async memory(
    version: CgroupVersion,
    paths: Map<string, string>,
  ): Promise<SignalObservation | undefined> {
    let result: SignalObservation | undefined;
    const v1 = version === 'v1';
    const hierarchy = v1 ? join(this.root, 'memory') : this.root;
    for (const directory of cgroupAncestry(hierarchy, paths.get(v1 ? 'memory' : '') ?? '/')) {
      const limit = integer(
        await readOptional(this.system, join(directory, v1 ? 'memory.limit_in_bytes' : 'memory.max')),
      );
      if (limit === undefined || limit >= V1_UNLIMITED) continue;
      const usage = integer(
        await readOptional(this.system, join(directory, v1 ? 'memory.usage_in_bytes' : 'memory.current')),
      );
      if (usage === undefined) continue;
      // v1's total_ counters include the cgroup's descendants, as usage_in_bytes does.
      const stat = await readOptional(this.system, join(directory, 'memory.stat'));
      const inactiveFile = statField(stat, v1 ? 'total_inactive_file' : 'inactive_file') ?? 0;
      result = tightest(result, {
        available: memoryAvailable({ limit, usage, inactiveFile }),
        capacity: limit,
      });
    }
    if (result) return result;
    // No limit along the way: the host's memory. MemAvailable is the kernel's own estimate of what can
    // be had without swapping (free plus reclaimable page cache), what usage minus inactive_file
    // approximates for a cgroup; the root cgroup has no memory.current on v2.
    const meminfo = await readOptional(this.system, join(this.procDir, 'meminfo'));
    const total = meminfo && /^MemTotal:\s+(\d+) kB$/m.exec(meminfo)?.[1];
    const available = meminfo && /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo)?.[1];
    if (!total || !available) return undefined;
    return { available: Number(available) * 1024, capacity: Number(total) * 1024 };
  }

  private async pids(
    version: CgroupVersion,
    paths: Map<string, string>,
  ): Promise<SignalObservation | undefined> {
    const v1 = version === 'v1';
    const hierarchy = v1 ? join(this.root, 'pids') : this.root;
    let result: SignalObservation | undefined;
    for (const directory of cgroupAncestry(hierarchy, paths.get(v1 ? 'pids' : '') ?? '/')) {
      const max = integer(await readOptional(this.system, join(directory, 'pids.max')));
      const current = integer(await readOptional(this.system, join(directory, 'pids.current')));
      if (max === undefined || current === undefined) continue;
      result = tightest(result, { available: max - current, capacity: max });
    }
    // Host-wide, thread ids come from pid_max too: /proc/loadavg's "running/total" counts every thread.
    const pidMax = integer(await readOptional(this.system, join(this.procDir, 'sys', 'kernel', 'pid_max')));
    const loadavg = await readOptional(this.system, join(this.procDir, 'loadavg'));
    const threads = integer(loadavg?.split(/\s+/)[3]?.split('/')[1]);
    if (pidMax !== undefined && threads !== undefined) {
      result = tightest(result, { available: pidMax - threads, capacity: pidMax });
    }
    return result;
  }

  private async disk(): Promise<SignalObservations> {
    const fs = await statfs(this.options.stateDir);
    const bytes: SignalObservation = { available: fs.bavail * fs.bsize, capacity: fs.blocks * fs.bsize };
    const observations: SignalObservations = {
      'nodefs.available': bytes,
      'imagefs.available': bytes,
    };
    // A file system without an inode table (btrfs, some FUSE) reports 0 files: nothing to run out of.
    if (fs.files > 0) {
      const inodes: SignalObservation = { available: fs.ffree, capacity: fs.files };
      observations['nodefs.inodesFree'] = inodes;
      observations['imagefs.inodesFree'] = inodes;
    }
    return observations;
  }
}
