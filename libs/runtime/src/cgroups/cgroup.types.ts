// The one cgroup interface the runtime uses, whatever the host mounts: cgroup v1 (one hierarchy per
// controller) or v2 (one unified tree). Drivers hide the file names; callers speak in limits and usage.

export type CgroupVersion = 'v1' | 'v2';

/**
 * Resource limits for one cgroup. Every field is optional: on create, an absent field keeps the
 * kernel's default (unlimited); on update, an absent field is left as it is.
 * All numbers are exact integers; memory fits a JavaScript number up to 8 PiB, far past any host.
 */
export interface CgroupLimits {
  /** Hard memory cap in bytes; past it the kernel reclaims, then OOM-kills inside the cgroup. */
  memoryBytes?: number;
  /**
   * Swap the cgroup may use on top of memoryBytes. Defaults to 0 whenever memoryBytes is given, as the
   * kubelet does: a memory limit that silently spills to swap is not a limit.
   */
  swapBytes?: number;
  /** CPU cap in millicores (1000 = one full CPU), enforced as a CFS quota per cpuPeriodMicros. */
  cpuMillicores?: number;
  /** CFS period for cpuMillicores, in microseconds (1000..1000000; default 100000, as Kubernetes). */
  cpuPeriodMicros?: number;
  /** Relative CPU weight in v1 shares (2..262144); v2 converts it to cpu.weight as Kubernetes does. */
  cpuShares?: number;
  /** CPUs the cgroup may run on, in the kernel's list format ("0-3,6"). */
  cpusetCpus?: string;
  /** Memory nodes the cgroup may allocate from, in the kernel's list format ("0"). */
  cpusetMems?: string;
  /** Most tasks (processes and threads) the cgroup may hold; a fork past it fails with EAGAIN. */
  pidsMax?: number;
  /** Block I/O weight and per-device throttles (v1 blkio, v2 io). */
  blockIo?: BlockIoLimits;
}

/** One block device by its kernel numbers, with a rate: bytes or operations per second. */
export interface BlockDeviceRate {
  major: number;
  minor: number;
  /** 0 lifts the device's throttle, as the kernel reads it. */
  rate: number;
}

/**
 * Docker's --blkio-weight and --device-{read,write}-{bps,iops}. The throttles are absolute caps per
 * device; the weight is a share of the disk against other cgroups, honoured by the BFQ scheduler (or
 * v2's io.weight), so it does nothing on a device whose scheduler is "none".
 */
export interface BlockIoLimits {
  /** Relative weight, 10..1000 as Docker's (v2 io.weight converts it to 1..10000). */
  weight?: number;
  readBps?: readonly BlockDeviceRate[];
  writeBps?: readonly BlockDeviceRate[];
  readIops?: readonly BlockDeviceRate[];
  writeIops?: readonly BlockDeviceRate[];
}

/** Bytes moved to and from block devices by the cgroup's tasks (the page cache's writeback included). */
export interface BlockIoUsage {
  readBytes: number;
  writeBytes: number;
}

/** What a cgroup has used, read back for metrics and exit reasons. */
export interface CgroupUsage {
  /** Total CPU time consumed by the cgroup's tasks, in nanoseconds (bigint: it outgrows 2^53 ns). */
  cpuUsageNanos: bigint;
  /**
   * Working-set memory in bytes: usage minus inactive file cache, the figure the kubelet evicts on and
   * `docker stats` shows, since clean page cache is reclaimed before any OOM kill.
   */
  memoryBytes: number;
  /** The effective memory cap in bytes, or undefined when the cgroup has none. */
  memoryLimitBytes?: number;
  /** Tasks currently in the cgroup. */
  pids: number;
  /** How many times the kernel's OOM killer has killed a task of this cgroup. */
  oomKills: number;
  /** Zero when the host has no blkio (v1) or io (v2) controller for the cgroup. */
  blockIo: BlockIoUsage;
}

/** One cgroup created (or re-opened) by a CgroupManager. */
export interface CgroupHandle {
  readonly version: CgroupVersion;
  /** The cgroup's path relative to the hierarchy root, e.g. "flotilla/3f2a". */
  readonly path: string;
  /** The cgroup's directories: one on v2, one per mounted hierarchy on v1. */
  readonly directories: readonly string[];
  /**
   * The files a pid must be written to for the process to join the cgroup (every hierarchy on v1).
   * The shim writes the container's pid here before the user's process runs.
   */
  readonly procsFiles: readonly string[];
  /**
   * The file whose `oom_kill N` line counts OOM kills in this cgroup (memory.events on v2,
   * memory.oom_control on v1), for whoever reads it without us, like the shim at exit; undefined
   * when the memory controller is not there.
   */
  readonly oomKillFile?: string;
  /** Moves a running process into the cgroup. */
  addProcess(pid: number): Promise<void>;
  /** Pids currently in the cgroup. */
  listProcesses(): Promise<number[]>;
  update(limits: CgroupLimits): Promise<void>;
  usage(): Promise<CgroupUsage>;
  /** Stops every task of the cgroup where it is (freezer); thaw resumes them. */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** SIGKILLs every task, including ones forked while we kill (cgroup.kill on v2, freeze-kill-thaw otherwise). */
  killAll(): Promise<void>;
  /** Kills what is left, then removes the cgroup's directories (retrying while the kernel is busy). */
  destroy(): Promise<void>;
}

export interface CgroupManager {
  readonly version: CgroupVersion;
  /** The cgroup mount root this manager works under, e.g. /sys/fs/cgroup. */
  readonly root: string;
  /** Creates the cgroup (and missing ancestors) and applies the limits. Re-creating an existing one updates it. */
  create(path: string, limits?: CgroupLimits): Promise<CgroupHandle>;
  /** Opens an existing cgroup, e.g. one another process created; fails if it does not exist. */
  open(path: string): Promise<CgroupHandle>;
  exists(path: string): Promise<boolean>;
}

/** Every cgroup failure; the message names the file and says what to do next. */
export class CgroupError extends Error {
  constructor(
    message: string,
    /** The errno code of the underlying failure, when there was one (EBUSY, ENOENT, EINVAL...). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CgroupError';
  }
}
