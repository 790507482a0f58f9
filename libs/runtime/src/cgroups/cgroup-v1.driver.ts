// cgroup v1: one hierarchy per controller (memory, cpu, cpuacct, cpuset, pids, freezer), each mounted
// under the root, possibly co-mounted ("cpu,cpuacct" with cpu and cpuacct as symlinks). A cgroup is a
// directory of the same relative path in every hierarchy, and a process joins it by writing its pid to
// each hierarchy's cgroup.procs.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CgroupError, type BlockIoLimits, type CgroupLimits, type CgroupUsage } from './cgroup.types';
import type { CgroupDriver } from './cgroup-driver';
import { readControl, readOptionalControl, readOptionalInteger, writeControl } from './cgroup-files';
import {
  BLOCK_IO_THROTTLES,
  V1_THROTTLE_FILES,
  hasBlockIoLimits,
  parseV1ServiceBytes,
  v1ThrottleLine,
} from './cgroup-block-io';
import {
  DEFAULT_CPU_PERIOD_MICROS,
  V1_UNLIMITED_THRESHOLD,
  cpuQuotaMicros,
  parseFlatKeyed,
  toSafeNumber,
} from './cgroup-limits';
import { errorCode, type CgroupSystem } from './cgroup-system';

export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer', 'blkio'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

const FREEZE_POLL_MS = 2;
const MAX_PREPARED_ANCESTORS = 512;
const FREEZE_ATTEMPTS = 500;

export class CgroupV1Driver implements CgroupDriver {
  readonly version = 'v1' as const;

  private constructor(
    readonly root: string,
    readonly system: CgroupSystem,
    /** Mounted hierarchy directory per controller; co-mounted controllers share one. */
    private readonly hierarchies: ReadonlyMap<V1Controller, string>,
  ) {}

  /** Finds the mounted v1 hierarchies under root; fails when none of ours is there. */
  static async open(root: string, system: CgroupSystem): Promise<CgroupV1Driver> {
    const hierarchies = new Map<V1Controller, string>();
    for (const controller of V1_CONTROLLERS) {
      const directory = join(root, controller);
      if (await system.exists(join(directory, 'cgroup.procs'))) {
        hierarchies.set(controller, await system.realPath(directory));
      }
    }
    if (hierarchies.size === 0) {
      throw new CgroupError(
        `no cgroup v1 hierarchy is mounted under ${root} (looked for ${V1_CONTROLLERS.join(', ')}); mount them or boot with cgroup v2`,
      );
    }
    return new CgroupV1Driver(root, system, hierarchies);
  }

  /** The controllers this host has mounted. */
  get controllers(): V1Controller[] {
    return [...this.hierarchies.keys()];
  }

  async directoriesOf(segments: readonly string[]): Promise<string[]> {
    return [...new Set(this.hierarchies.values())].map((hierarchy) => join(hierarchy, ...segments));
  }

  oomKillFileOf(segments: readonly string[]): string | undefined {
    const memory = this.directory('memory', segments);
    return memory === undefined ? undefined : join(memory, 'memory.oom_control');
  }

  private directory(controller: V1Controller, segments: readonly string[]): string | undefined {
    const hierarchy = this.hierarchies.get(controller);
    return hierarchy === undefined ? undefined : join(hierarchy, ...segments);
  }

  private requireDirectory(controller: V1Controller, segments: readonly string[], limit: string): string {
    const directory = this.directory(controller, segments);
    if (directory === undefined) {
      throw new CgroupError(
        `cannot apply ${limit}: the cgroup v1 "${controller}" hierarchy is not mounted under ${this.root}; mount it or drop the limit`,
      );
    }
    return directory;
  }

  async prepare(segments: readonly string[], limits: CgroupLimits): Promise<void> {
    this.requireControllersFor(segments, limits);
    try {
      await this.makeDirectories(segments);
    } catch (error) {
      // An ancestor we made before was removed behind our back (a parent destroyed): start afresh.
      if (errorCode(error) !== 'ENOENT' || this.preparedAncestors.size === 0) throw error;
      this.preparedAncestors.clear();
      await this.makeDirectories(segments);
    }
  }

  /**
   * Ancestors ("flotilla") made and filled once by this driver. Every container start creates its
   * cgroup under the same parent in each of seven hierarchies, and a mkdir that fails with EEXIST
   * costs a thrown exception (~8 µs here) per hierarchy; a removed ancestor shows as ENOENT below.
   */
  private readonly preparedAncestors = new Set<string>();

  private async makeDirectories(segments: readonly string[]): Promise<void> {
    for (const hierarchy of new Set(this.hierarchies.values())) {
      const isCpuset = hierarchy === this.hierarchies.get('cpuset');
      let parent = hierarchy;
      for (const [index, segment] of segments.entries()) {
        const directory = join(parent, segment);
        const isAncestor = index < segments.length - 1;
        if (isAncestor && this.preparedAncestors.has(directory)) {
          parent = directory;
          continue;
        }
        await this.system.makeDirectory(directory);
        // A new v1 cpuset starts with no CPUs and no memory nodes, and no task may join it until both
        // are set: copy the parent's, level by level, before anything else.
        if (isCpuset) await this.inheritCpuset(parent, directory);
        if (isAncestor) {
          // Pod parents come and go with a long-lived agent: keep the memory bounded.
          if (this.preparedAncestors.size >= MAX_PREPARED_ANCESTORS) this.preparedAncestors.clear();
          this.preparedAncestors.add(directory);
        }
        parent = directory;
      }
    }
  }

  private requireControllersFor(segments: readonly string[], limits: CgroupLimits): void {
    if (limits.memoryBytes !== undefined) this.requireDirectory('memory', segments, 'memoryBytes');
    if (limits.cpuMillicores !== undefined) this.requireDirectory('cpu', segments, 'cpuMillicores');
    if (limits.cpuShares !== undefined) this.requireDirectory('cpu', segments, 'cpuShares');
    if (limits.cpusetCpus !== undefined || limits.cpusetMems !== undefined) {
      this.requireDirectory('cpuset', segments, 'cpusetCpus/cpusetMems');
    }
    if (limits.pidsMax !== undefined) this.requireDirectory('pids', segments, 'pidsMax');
    if (hasBlockIoLimits(limits.blockIo)) this.requireDirectory('blkio', segments, 'blockIo');
  }

  private async inheritCpuset(parent: string, directory: string): Promise<void> {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const own = (await readControl(this.system, directory, file)).trim();
      if (own !== '') continue;
      const inherited = (await readControl(this.system, parent, file)).trim();
      await writeControl(this.system, directory, file, inherited);
    }
  }

  async applyLimits(segments: readonly string[], limits: CgroupLimits): Promise<void> {
    this.requireControllersFor(segments, limits);
    if (limits.memoryBytes !== undefined) {
      await this.applyMemory(
        this.requireDirectory('memory', segments, 'memoryBytes'),
        limits.memoryBytes,
        limits.swapBytes ?? 0,
      );
    }
    if (limits.cpuMillicores !== undefined) {
      const directory = this.requireDirectory('cpu', segments, 'cpuMillicores');
      const period = limits.cpuPeriodMicros ?? DEFAULT_CPU_PERIOD_MICROS;
      await writeControl(this.system, directory, 'cpu.cfs_period_us', String(period));
      await writeControl(
        this.system,
        directory,
        'cpu.cfs_quota_us',
        String(cpuQuotaMicros(limits.cpuMillicores, period)),
      );
    }
    if (limits.cpuShares !== undefined) {
      const directory = this.requireDirectory('cpu', segments, 'cpuShares');
      await writeControl(this.system, directory, 'cpu.shares', String(limits.cpuShares));
    }
    if (limits.cpusetCpus !== undefined) {
      const directory = this.requireDirectory('cpuset', segments, 'cpusetCpus');
      await writeControl(this.system, directory, 'cpuset.cpus', limits.cpusetCpus);
    }
    if (limits.cpusetMems !== undefined) {
      const directory = this.requireDirectory('cpuset', segments, 'cpusetMems');
      await writeControl(this.system, directory, 'cpuset.mems', limits.cpusetMems);
    }
    if (limits.pidsMax !== undefined) {
      const directory = this.requireDirectory('pids', segments, 'pidsMax');
      await writeControl(this.system, directory, 'pids.max', String(limits.pidsMax));
    }
    if (limits.blockIo !== undefined && hasBlockIoLimits(limits.blockIo)) {
      await this.applyBlockIo(this.requireDirectory('blkio', segments, 'blockIo'), limits.blockIo);
    }
  }

  /**
   * blkio.weight was CFQ's; kernels since 5.0 have only BFQ's blkio.bfq.weight (present when BFQ is
   * built in or loaded). Throttles take one "MAJ:MIN RATE" line per write.
   */
  private async applyBlockIo(directory: string, limits: BlockIoLimits): Promise<void> {
    if (limits.weight !== undefined) {
      const file = (await this.system.exists(join(directory, 'blkio.weight')))
        ? 'blkio.weight'
        : (await this.system.exists(join(directory, 'blkio.bfq.weight')))
          ? 'blkio.bfq.weight'
          : undefined;
      if (file === undefined) {
        throw new CgroupError(
          `cannot set the block I/O weight: ${directory} has neither blkio.weight nor blkio.bfq.weight; the kernel needs the BFQ I/O scheduler (CONFIG_IOSCHED_BFQ, modprobe bfq) with CONFIG_BFQ_GROUP_IOSCHED, or drop the weight`,
          'ENOENT',
        );
      }
      await writeControl(this.system, directory, file, String(limits.weight));
    }
    for (const key of BLOCK_IO_THROTTLES) {
      for (const device of limits[key] ?? []) {
        await writeControl(this.system, directory, V1_THROTTLE_FILES[key], v1ThrottleLine(device));
      }
    }
  }

  /**
   * v1 insists memory.memsw.limit_in_bytes (memory + swap) never drops below memory.limit_in_bytes, at
   * every moment: when the cap grows, raise memsw first; when it shrinks, lower memory first.
   */
  private async applyMemory(directory: string, memoryBytes: number, swapBytes: number): Promise<void> {
    const currentMemsw = await readOptionalInteger(this.system, directory, 'memory.memsw.limit_in_bytes');
    if (currentMemsw === undefined) {
      if (swapBytes > 0) {
        throw new CgroupError(
          `cannot grant swapBytes: ${directory} has no memory.memsw.limit_in_bytes (boot with swapaccount=1) or set swapBytes to 0`,
        );
      }
      await writeControl(this.system, directory, 'memory.limit_in_bytes', String(memoryBytes));
      return;
    }
    const memsw = String(memoryBytes + swapBytes);
    if (BigInt(memoryBytes) > currentMemsw) {
      await writeControl(this.system, directory, 'memory.memsw.limit_in_bytes', memsw);
      await writeControl(this.system, directory, 'memory.limit_in_bytes', String(memoryBytes));
    } else {
      await writeControl(this.system, directory, 'memory.limit_in_bytes', String(memoryBytes));
      await writeControl(this.system, directory, 'memory.memsw.limit_in_bytes', memsw);
    }
  }

  async readUsage(segments: readonly string[]): Promise<CgroupUsage> {
    const usage: CgroupUsage = {
      cpuUsageNanos: 0n,
      memoryBytes: 0,
      pids: 0,
      oomKills: 0,
      blockIo: { readBytes: 0, writeBytes: 0 },
    };
    const cpuacct = this.directory('cpuacct', segments);
    if (cpuacct !== undefined) {
      usage.cpuUsageNanos = (await readOptionalInteger(this.system, cpuacct, 'cpuacct.usage')) ?? 0n;
    }
    const memory = this.directory('memory', segments);
    if (memory !== undefined) {
      const used = (await readOptionalInteger(this.system, memory, 'memory.usage_in_bytes')) ?? 0n;
      const stat = parseFlatKeyed((await readOptionalControl(this.system, memory, 'memory.stat')) ?? '');
      const inactiveFile = stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0n;
      usage.memoryBytes = toSafeNumber(used > inactiveFile ? used - inactiveFile : 0n, 'memory usage');
      const limit = await readOptionalInteger(this.system, memory, 'memory.limit_in_bytes');
      if (limit !== undefined && limit < BigInt(V1_UNLIMITED_THRESHOLD)) {
        usage.memoryLimitBytes = toSafeNumber(limit, 'memory limit');
      }
      // oom_kill appeared in memory.oom_control with Linux 4.13; older kernels cannot tell.
      const oomControl = parseFlatKeyed(
        (await readOptionalControl(this.system, memory, 'memory.oom_control')) ?? '',
      );
      usage.oomKills = toSafeNumber(oomControl.get('oom_kill') ?? 0n, 'oom kill count');
    }
    const pids = this.directory('pids', segments);
    if (pids !== undefined) {
      usage.pids = toSafeNumber((await readOptionalInteger(this.system, pids, 'pids.current')) ?? 0n, 'pids');
    }
    const blkio = this.directory('blkio', segments);
    if (blkio !== undefined) {
      // The _recursive file includes child cgroups (a container's own sub-cgroups); older kernels lack it.
      const serviced =
        (await readOptionalControl(this.system, blkio, 'blkio.throttle.io_service_bytes_recursive')) ??
        (await readOptionalControl(this.system, blkio, 'blkio.throttle.io_service_bytes')) ??
        '';
      usage.blockIo = parseV1ServiceBytes(serviced);
    }
    return usage;
  }

  async setFrozen(segments: readonly string[], frozen: boolean): Promise<void> {
    const directory = this.directory('freezer', segments);
    if (directory === undefined) {
      throw new CgroupError(
        `cannot freeze: the cgroup v1 "freezer" hierarchy is not mounted under ${this.root}`,
      );
    }
    const wanted = frozen ? 'FROZEN' : 'THAWED';
    await writeControl(this.system, directory, 'freezer.state', wanted);
    // Freezing is asynchronous in v1: the state reads FREEZING until every task has stopped.
    for (let attempt = 0; attempt < FREEZE_ATTEMPTS; attempt++) {
      if ((await readControl(this.system, directory, 'freezer.state')).trim() === wanted) return;
      await sleep(FREEZE_POLL_MS);
      if (frozen && attempt % 50 === 49) await writeControl(this.system, directory, 'freezer.state', wanted);
    }
    throw new CgroupError(
      `${directory} did not reach ${wanted}; a task may be stuck in uninterruptible sleep`,
    );
  }

  async killTasks(segments: readonly string[]): Promise<void> {
    // Frozen tasks cannot fork, so one pass over cgroup.procs kills them all; SIGKILL lands on thaw.
    // A cgroup opened after someone else created it may lack a freezer directory: kill unfrozen then.
    const freezer = this.directory('freezer', segments);
    const canFreeze = freezer !== undefined && (await this.system.exists(join(freezer, 'freezer.state')));
    if (canFreeze) await this.setFrozen(segments, true);
    try {
      for (const directory of await this.directoriesOf(segments)) {
        const procs = (await readOptionalControl(this.system, directory, 'cgroup.procs')) ?? '';
        for (const line of procs.split('\n')) {
          if (/^\d+$/.test(line.trim())) this.system.signal(Number(line.trim()), 'SIGKILL');
        }
      }
    } finally {
      if (canFreeze) await this.setFrozen(segments, false);
    }
  }
}
