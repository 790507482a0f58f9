// The CgroupManager both versions share: path checks, handles, killing until empty and removal with
// retries. Version-specific file work is delegated to the driver chosen by detectCgroupVersion.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CgroupError,
  type CgroupHandle,
  type CgroupLimits,
  type CgroupManager,
  type CgroupUsage,
  type CgroupVersion,
} from './cgroup.types';
import { DEFAULT_CGROUP_ROOT, detectCgroupVersion } from './cgroup-detect';
import type { CgroupDriver } from './cgroup-driver';
import { parsePids, readOptionalControl, writeControl } from './cgroup-files';
import { validateBlockIoLimits } from './cgroup-block-io';
import { cgroupPathSegments, validateLimits } from './cgroup-limits';
import { errorCode, hostCgroupSystem, type CgroupSystem } from './cgroup-system';
import { CgroupV1Driver } from './cgroup-v1.driver';
import { CgroupV2Driver } from './cgroup-v2.driver';

export interface CgroupManagerOptions {
  /** Where the cgroup filesystem is mounted (default /sys/fs/cgroup); specs point it at a fake tree. */
  root?: string;
  /** The kernel surface; specs pass a fake one whose processes are not real. */
  system?: CgroupSystem;
  /** Skips detection, e.g. to drive a v1 tree on purpose. */
  version?: CgroupVersion;
  /** How long destroy and killAll keep retrying while tasks exit (default 10 s). */
  settleTimeoutMs?: number;
}

const DEFAULT_SETTLE_TIMEOUT_MS = 10_000;

/** Picks the driver for the host (once per root) and returns the manager. */
export async function createCgroupManager(options: CgroupManagerOptions = {}): Promise<CgroupManager> {
  const root = options.root ?? DEFAULT_CGROUP_ROOT;
  const system = options.system ?? hostCgroupSystem;
  const version = options.version ?? (await detectCgroupVersion(root, system));
  const driver =
    version === 'v2' ? new CgroupV2Driver(root, system) : await CgroupV1Driver.open(root, system);
  return new DriverCgroupManager(driver, options.settleTimeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS);
}

class DriverCgroupManager implements CgroupManager {
  constructor(
    private readonly driver: CgroupDriver,
    private readonly settleTimeoutMs: number,
  ) {}

  get version(): CgroupVersion {
    return this.driver.version;
  }

  get root(): string {
    return this.driver.root;
  }

  async create(path: string, limits: CgroupLimits = {}): Promise<CgroupHandle> {
    validateLimits(limits);
    validateBlockIoLimits(limits.blockIo);
    const segments = cgroupPathSegments(path);
    await this.driver.prepare(segments, limits);
    await this.driver.applyLimits(segments, limits);
    return this.handle(path, segments);
  }

  async open(path: string): Promise<CgroupHandle> {
    const segments = cgroupPathSegments(path);
    if (!(await this.exists(path))) {
      throw new CgroupError(
        `no cgroup ${path} under ${this.root}: it was never created or has been destroyed`,
        'ENOENT',
      );
    }
    return this.handle(path, segments);
  }

  /** True when any of the cgroup's directories is there: a half-created or half-removed v1 cgroup counts. */
  async exists(path: string): Promise<boolean> {
    for (const directory of await this.driver.directoriesOf(cgroupPathSegments(path))) {
      if (await this.driver.system.exists(join(directory, 'cgroup.procs'))) return true;
    }
    return false;
  }

  private async handle(path: string, segments: string[]): Promise<CgroupHandle> {
    return new DriverCgroupHandle(
      this.driver,
      path,
      segments,
      await this.driver.directoriesOf(segments),
      this.settleTimeoutMs,
    );
  }
}

class DriverCgroupHandle implements CgroupHandle {
  readonly procsFiles: readonly string[];
  readonly oomKillFile?: string;

  constructor(
    private readonly driver: CgroupDriver,
    readonly path: string,
    private readonly segments: readonly string[],
    readonly directories: readonly string[],
    private readonly settleTimeoutMs: number,
  ) {
    this.procsFiles = directories.map((directory) => join(directory, 'cgroup.procs'));
    const oomKillFile = driver.oomKillFileOf(segments);
    if (oomKillFile !== undefined) this.oomKillFile = oomKillFile;
  }

  get version(): CgroupVersion {
    return this.driver.version;
  }

  async addProcess(pid: number): Promise<void> {
    if (!Number.isSafeInteger(pid) || pid <= 0) {
      throw new CgroupError(`cannot add pid ${String(pid)} to ${this.path}: a pid is a positive integer`);
    }
    for (const directory of this.directories) {
      await writeControl(this.driver.system, directory, 'cgroup.procs', String(pid));
    }
  }

  async listProcesses(): Promise<number[]> {
    const pids = new Set<number>();
    for (const directory of this.directories) {
      const procs = await readOptionalControl(this.driver.system, directory, 'cgroup.procs');
      for (const pid of parsePids(procs ?? '')) pids.add(pid);
    }
    return [...pids].sort((a, b) => a - b);
  }

  async update(limits: CgroupLimits): Promise<void> {
    validateLimits(limits);
    validateBlockIoLimits(limits.blockIo);
    // A limit the cgroup was created without may need its controller enabled on the way down (v2).
    await this.driver.prepare(this.segments, limits);
    await this.driver.applyLimits(this.segments, limits);
  }

  usage(): Promise<CgroupUsage> {
    return this.driver.readUsage(this.segments);
  }

  freeze(): Promise<void> {
    return this.driver.setFrozen(this.segments, true);
  }

  thaw(): Promise<void> {
    return this.driver.setFrozen(this.segments, false);
  }

  async killAll(): Promise<void> {
    const deadline = Date.now() + this.settleTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const remaining = await this.listProcesses();
      if (remaining.length === 0) return;
      if (Date.now() > deadline) {
        throw new CgroupError(
          `cgroup ${this.path} still has tasks ${remaining.join(', ')} after SIGKILL; they may be stuck in uninterruptible sleep (D state)`,
          'EBUSY',
        );
      }
      // Killing again is only needed for tasks forked in between; otherwise wait for the exits to land.
      if (attempt % 10 === 0) await this.driver.killTasks(this.segments);
      await sleep(Math.min(50, 1 + attempt * 2));
    }
  }

  async destroy(): Promise<void> {
    await this.destroyTree(this.segments);
  }

  private async destroyTree(segments: readonly string[]): Promise<void> {
    const directories = await this.driver.directoriesOf(segments);
    const children = new Set<string>();
    for (const directory of directories) {
      if (!(await this.driver.system.exists(directory))) continue;
      for (const child of await this.driver.system.listSubdirectories(directory)) children.add(child);
    }
    for (const child of children) await this.destroyTree([...segments, child]);
    const handle = new DriverCgroupHandle(
      this.driver,
      segments.join('/'),
      segments,
      directories,
      this.settleTimeoutMs,
    );
    await handle.killAll();
    for (const directory of directories) await this.removeWithRetry(directory);
  }

  /** rmdir fails with EBUSY while exiting tasks still hold the cgroup; they are gone within moments. */
  private async removeWithRetry(directory: string): Promise<void> {
    const deadline = Date.now() + this.settleTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.driver.system.removeDirectory(directory);
        return;
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || Date.now() > deadline) {
          throw new CgroupError(
            `cannot remove cgroup ${directory} (${code ?? String(error)}): ${code === 'EBUSY' ? 'tasks are still inside; kill them and retry' : 'check that it is a cgroup directory and we run as root'}`,
            code,
          );
        }
        await sleep(Math.min(50, 1 + attempt * 2));
      }
    }
  }
}
