// The cgroup tree of the node's pods, as kubelet lays it out: a node-level parent (capped at the
// node's allocatable, so what the scheduler promised is what the kernel enforces), one cgroup per pod
// under it with the pod's totals, and one per container under its pod. The ContainerManager asks its
// ContainerCgroups per container; this answers with a cgroup under the container's pod.
import {
  createCgroupManager,
  type CgroupHandle,
  type CgroupLimits,
  type CgroupManager,
  type ContainerCgroup,
  type ContainerCgroups,
  type ContainerResources,
} from '@flotilla/runtime';
import type { ContainerCgroupLimits } from '../pod-resources.util';

export interface PodCgroupsOptions {
  /** The node-level parent, relative to the cgroup root (e.g. "flotilla-pods"). */
  parent: string;
  cgroupRoot?: string;
  /** Caps for the parent: the node's allocatable. */
  allocatable?: { cpuMillicores?: number; memoryBytes?: number };
}

function limitsOf(limits: ContainerCgroupLimits | ContainerResources): CgroupLimits {
  return {
    ...(limits.cpuShares !== undefined ? { cpuShares: limits.cpuShares } : {}),
    ...(limits.cpuMillicores !== undefined ? { cpuMillicores: limits.cpuMillicores } : {}),
    ...(limits.memoryBytes !== undefined ? { memoryBytes: limits.memoryBytes } : {}),
    ...('pidsLimit' in limits && limits.pidsLimit !== undefined ? { pidsMax: limits.pidsLimit } : {}),
  };
}

function containerCgroupOf(handle: CgroupHandle): ContainerCgroup {
  return {
    procsFiles: handle.procsFiles,
    ...(handle.oomKillFile !== undefined ? { oomFile: handle.oomKillFile } : {}),
    async usage() {
      const usage = await handle.usage();
      return {
        cpuUsageNanos: usage.cpuUsageNanos,
        memoryBytes: usage.memoryBytes,
        ...(usage.memoryLimitBytes !== undefined ? { memoryLimitBytes: usage.memoryLimitBytes } : {}),
        pids: usage.pids,
      };
    },
    destroy: () => handle.destroy(),
  };
}

export class PodCgroups implements ContainerCgroups {
  /** The pod cgroup each container of ours goes under. */
  private readonly podOf = new Map<string, string>();

  private constructor(
    readonly manager: CgroupManager,
    private readonly options: PodCgroupsOptions,
  ) {}

  static async open(options: PodCgroupsOptions): Promise<PodCgroups> {
    const manager = await createCgroupManager(
      options.cgroupRoot !== undefined ? { root: options.cgroupRoot } : {},
    );
    const cgroups = new PodCgroups(manager, options);
    await manager.create(options.parent, {
      ...(options.allocatable?.cpuMillicores !== undefined
        ? { cpuMillicores: options.allocatable.cpuMillicores }
        : {}),
      ...(options.allocatable?.memoryBytes !== undefined
        ? { memoryBytes: options.allocatable.memoryBytes }
        : {}),
    });
    return cgroups;
  }

  get parent(): string {
    return this.options.parent;
  }

  podPath(uid: string): string {
    return `${this.options.parent}/pod${uid}`;
  }

  /** Creates (or updates) the pod's cgroup with the pod's totals. */
  async ensurePod(uid: string, limits: ContainerCgroupLimits): Promise<string> {
    const path = this.podPath(uid);
    await this.manager.create(path, limitsOf(limits));
    return path;
  }

  /** Kills whatever is left in the pod's cgroup and removes it with its children. */
  async destroyPod(uid: string): Promise<void> {
    const path = this.podPath(uid);
    if (await this.manager.exists(path)) await (await this.manager.open(path)).destroy();
  }

  register(containerId: string, podUid: string): void {
    this.podOf.set(containerId, this.podPath(podUid));
  }

  forget(containerId: string): void {
    this.podOf.delete(containerId);
  }

  private pathOf(containerId: string): string | undefined {
    const pod = this.podOf.get(containerId);
    return pod === undefined ? undefined : `${pod}/${containerId}`;
  }

  async create(containerId: string, resources: ContainerResources): Promise<ContainerCgroup> {
    const path = this.pathOf(containerId);
    if (path === undefined) {
      throw new Error(
        `container ${containerId.slice(0, 12)} belongs to no pod of this node agent; pod containers are started by the agent only`,
      );
    }
    return containerCgroupOf(await this.manager.create(path, limitsOf(resources)));
  }

  async open(containerId: string): Promise<ContainerCgroup | undefined> {
    const path = this.pathOf(containerId);
    if (path === undefined || !(await this.manager.exists(path))) return undefined;
    return containerCgroupOf(await this.manager.open(path));
  }

  /** Usage of any cgroup of ours by path (the node parent for node totals). */
  async usageOf(path: string): Promise<{ cpuUsageNanos: bigint; memoryBytes: number } | undefined> {
    if (!(await this.manager.exists(path))) return undefined;
    return (await this.manager.open(path)).usage();
  }
}
