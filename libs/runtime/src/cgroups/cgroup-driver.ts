// What a cgroup version contributes: where a cgroup's directories are, how limits become files, how
// usage is read back and how its tasks are frozen and killed. The manager (cgroup-manager.ts) does the
// rest the same way for both versions.
import type { CgroupLimits, CgroupUsage, CgroupVersion } from './cgroup.types';
import type { CgroupSystem } from './cgroup-system';

export interface CgroupDriver {
  readonly version: CgroupVersion;
  readonly root: string;
  readonly system: CgroupSystem;
  /** The cgroup's directories (one per hierarchy on v1), whether or not they exist yet. */
  directoriesOf(segments: readonly string[]): Promise<string[]>;
  /** The file holding the `oom_kill` counter, if the memory controller is there. */
  oomKillFileOf(segments: readonly string[]): string | undefined;
  /** Creates the cgroup and whatever its ancestors need (cpuset values, enabled controllers). */
  prepare(segments: readonly string[], limits: CgroupLimits): Promise<void>;
  applyLimits(segments: readonly string[], limits: CgroupLimits): Promise<void>;
  readUsage(segments: readonly string[]): Promise<CgroupUsage>;
  setFrozen(segments: readonly string[], frozen: boolean): Promise<void>;
  /** Kills every task once; the manager repeats until the cgroup is empty. */
  killTasks(segments: readonly string[]): Promise<void>;
}
