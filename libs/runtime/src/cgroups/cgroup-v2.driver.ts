// cgroup v2: one unified tree. A controller works in a cgroup only when every ancestor lists it in
// cgroup.subtree_control, so creating a cgroup enables our controllers from the root down first.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CgroupError, type BlockIoLimits, type CgroupLimits, type CgroupUsage } from './cgroup.types';
import { hasBlockIoLimits, ioWeightFromBlkioWeight, parseV2IoStat, v2IoMaxLines } from './cgroup-block-io';
import type { CgroupDriver } from './cgroup-driver';
import { readControl, readOptionalControl, readOptionalInteger, writeControl } from './cgroup-files';
import {
  DEFAULT_CPU_PERIOD_MICROS,
  cpuQuotaMicros,
  cpuWeightFromShares,
  parseFlatKeyed,
  toSafeNumber,
} from './cgroup-limits';
import type { CgroupSystem } from './cgroup-system';

/** Controllers every container cgroup gets when the host offers them: caps and usage need them. */
const BASE_CONTROLLERS = ['cpu', 'memory', 'pids', 'io'] as const;

const FREEZE_POLL_MS = 2;
const FREEZE_ATTEMPTS = 500;

function controllersNeeded(limits: CgroupLimits): Set<string> {
  const needed = new Set<string>();
  if (limits.memoryBytes !== undefined) needed.add('memory');
  if (limits.cpuMillicores !== undefined || limits.cpuShares !== undefined) needed.add('cpu');
  if (limits.pidsMax !== undefined) needed.add('pids');
  if (limits.cpusetCpus !== undefined || limits.cpusetMems !== undefined) needed.add('cpuset');
  if (hasBlockIoLimits(limits.blockIo)) needed.add('io');
  return needed;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '');
}

export class CgroupV2Driver implements CgroupDriver {
  readonly version = 'v2' as const;

  constructor(
    readonly root: string,
    readonly system: CgroupSystem,
  ) {}

  async directoriesOf(segments: readonly string[]): Promise<string[]> {
    return [join(this.root, ...segments)];
  }

  oomKillFileOf(segments: readonly string[]): string | undefined {
    return join(this.root, ...segments, 'memory.events');
  }

  async prepare(segments: readonly string[], limits: CgroupLimits): Promise<void> {
    const needed = controllersNeeded(limits);
    let parent = this.root;
    for (const segment of segments) {
      await this.enableControllers(parent, needed);
      const directory = join(parent, segment);
      await this.system.makeDirectory(directory);
      parent = directory;
    }
  }

  private async enableControllers(directory: string, needed: ReadonlySet<string>): Promise<void> {
    const available = new Set(words(await readControl(this.system, directory, 'cgroup.controllers')));
    for (const controller of needed) {
      if (!available.has(controller)) {
        throw new CgroupError(
          `the cgroup v2 "${controller}" controller is not available in ${directory} (cgroup.controllers: "${[...available].join(' ')}"); enable it in the parent's cgroup.subtree_control or drop the limit`,
        );
      }
    }
    const enabled = new Set(words(await readControl(this.system, directory, 'cgroup.subtree_control')));
    const wanted = [...new Set([...BASE_CONTROLLERS, ...needed])].filter((name) => available.has(name));
    const missing = wanted.filter((name) => !enabled.has(name));
    if (missing.length === 0) return;
    try {
      await writeControl(
        this.system,
        directory,
        'cgroup.subtree_control',
        missing.map((name) => `+${name}`).join(' '),
      );
    } catch (error) {
      if (error instanceof CgroupError && error.code === 'EBUSY') {
        throw new CgroupError(
          `cannot enable ${missing.join(', ')} in ${directory}: it has processes of its own, and cgroup v2 only lets controllers reach children of a cgroup without processes; move them into a leaf cgroup first`,
          'EBUSY',
        );
      }
      throw error;
    }
  }

  async applyLimits(segments: readonly string[], limits: CgroupLimits): Promise<void> {
    const directory = join(this.root, ...segments);
    if (limits.memoryBytes !== undefined) {
      await writeControl(this.system, directory, 'memory.max', String(limits.memoryBytes));
      const swapBytes = limits.swapBytes ?? 0;
      const hasSwapFile =
        (await readOptionalControl(this.system, directory, 'memory.swap.max')) !== undefined;
      if (hasSwapFile) {
        await writeControl(this.system, directory, 'memory.swap.max', String(swapBytes));
      } else if (swapBytes > 0) {
        throw new CgroupError(
          `cannot grant swapBytes: ${directory} has no memory.swap.max (kernel without swap accounting); set swapBytes to 0`,
        );
      }
    }
    if (limits.cpuMillicores !== undefined) {
      const period = limits.cpuPeriodMicros ?? DEFAULT_CPU_PERIOD_MICROS;
      await writeControl(
        this.system,
        directory,
        'cpu.max',
        `${cpuQuotaMicros(limits.cpuMillicores, period)} ${period}`,
      );
    }
    if (limits.cpuShares !== undefined) {
      await writeControl(this.system, directory, 'cpu.weight', String(cpuWeightFromShares(limits.cpuShares)));
    }
    if (limits.cpusetCpus !== undefined)
      await writeControl(this.system, directory, 'cpuset.cpus', limits.cpusetCpus);
    if (limits.cpusetMems !== undefined)
      await writeControl(this.system, directory, 'cpuset.mems', limits.cpusetMems);
    if (limits.pidsMax !== undefined)
      await writeControl(this.system, directory, 'pids.max', String(limits.pidsMax));
    if (limits.blockIo !== undefined && hasBlockIoLimits(limits.blockIo)) {
      await this.applyBlockIo(directory, limits.blockIo);
    }
  }

  /**
   * The weight goes to io.bfq.weight when BFQ is there (it takes Docker's 1..1000 as is, and BFQ is
   * what honours a weight on most disks), else to io.weight in its 1..10000 scale; both absent
   * means the io controller is not enabled here. io.max takes one device per write.
   */
  private async applyBlockIo(directory: string, limits: BlockIoLimits): Promise<void> {
    if (limits.weight !== undefined) {
      if (await this.system.exists(join(directory, 'io.bfq.weight'))) {
        await writeControl(this.system, directory, 'io.bfq.weight', String(limits.weight));
      } else if (await this.system.exists(join(directory, 'io.weight'))) {
        await writeControl(
          this.system,
          directory,
          'io.weight',
          String(ioWeightFromBlkioWeight(limits.weight)),
        );
      } else {
        throw new CgroupError(
          `cannot set the block I/O weight: ${directory} has neither io.bfq.weight nor io.weight; the kernel needs the io controller with BFQ (CONFIG_BFQ_GROUP_IOSCHED) or an io.weight policy (CONFIG_BLK_CGROUP_IOCOST), or drop the weight`,
          'ENOENT',
        );
      }
    }
    for (const line of v2IoMaxLines(limits)) await writeControl(this.system, directory, 'io.max', line);
  }

  async readUsage(segments: readonly string[]): Promise<CgroupUsage> {
    const directory = join(this.root, ...segments);
    const cpuStat = parseFlatKeyed((await readOptionalControl(this.system, directory, 'cpu.stat')) ?? '');
    const used = (await readOptionalInteger(this.system, directory, 'memory.current')) ?? 0n;
    const memoryStat = parseFlatKeyed(
      (await readOptionalControl(this.system, directory, 'memory.stat')) ?? '',
    );
    const inactiveFile = memoryStat.get('inactive_file') ?? 0n;
    const usage: CgroupUsage = {
      cpuUsageNanos: (cpuStat.get('usage_usec') ?? 0n) * 1000n,
      memoryBytes: toSafeNumber(used > inactiveFile ? used - inactiveFile : 0n, 'memory usage'),
      pids: toSafeNumber((await readOptionalInteger(this.system, directory, 'pids.current')) ?? 0n, 'pids'),
      oomKills: 0,
      blockIo: parseV2IoStat((await readOptionalControl(this.system, directory, 'io.stat')) ?? ''),
    };
    const memoryMax = (await readOptionalControl(this.system, directory, 'memory.max'))?.trim();
    if (memoryMax !== undefined && /^\d+$/.test(memoryMax)) {
      usage.memoryLimitBytes = toSafeNumber(BigInt(memoryMax), 'memory limit');
    }
    const events = parseFlatKeyed((await readOptionalControl(this.system, directory, 'memory.events')) ?? '');
    usage.oomKills = toSafeNumber(events.get('oom_kill') ?? 0n, 'oom kill count');
    return usage;
  }

  async setFrozen(segments: readonly string[], frozen: boolean): Promise<void> {
    const directory = join(this.root, ...segments);
    const wanted = frozen ? 1n : 0n;
    await writeControl(this.system, directory, 'cgroup.freeze', String(wanted));
    // The write only asks; cgroup.events reports "frozen 1" once every task has stopped.
    for (let attempt = 0; attempt < FREEZE_ATTEMPTS; attempt++) {
      const events = parseFlatKeyed(await readControl(this.system, directory, 'cgroup.events'));
      if ((events.get('frozen') ?? 0n) === wanted) return;
      await sleep(FREEZE_POLL_MS);
    }
    throw new CgroupError(
      `${directory} did not ${frozen ? 'freeze' : 'thaw'}; a task may be stuck in the kernel`,
    );
  }

  async killTasks(segments: readonly string[]): Promise<void> {
    const directory = join(this.root, ...segments);
    // cgroup.kill (Linux 5.14+) kills the whole subtree atomically, forks in flight included.
    if (await this.system.exists(join(directory, 'cgroup.kill'))) {
      await writeControl(this.system, directory, 'cgroup.kill', '1');
      return;
    }
    await this.setFrozen(segments, true);
    try {
      const procs = await readControl(this.system, directory, 'cgroup.procs');
      for (const line of procs.split('\n')) {
        if (/^\d+$/.test(line.trim())) this.system.signal(Number(line.trim()), 'SIGKILL');
      }
    } finally {
      await this.setFrozen(segments, false);
    }
  }
}
