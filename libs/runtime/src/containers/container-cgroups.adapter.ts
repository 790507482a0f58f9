// Engineer G's CgroupManager seen as the per-container cgroups the ContainerManager needs: one
// cgroup per container under a parent (default "flotilla"), limits from the container's resources,
// and the file whose `oom_kill` counter the shim reads when the container ends.
import { join } from 'node:path';
import { blockDeviceNumbers } from '../cgroups/cgroup-block-io';
import type {
  BlockDeviceRate,
  BlockIoLimits,
  CgroupHandle,
  CgroupLimits,
  CgroupManager,
} from '../cgroups/cgroup.types';
import type {
  BlockDeviceThrottle,
  ContainerCgroup,
  ContainerCgroups,
  ContainerResources,
} from './container.types';

export interface ContainerCgroupsOptions {
  /** The cgroup every container's cgroup is created under (default "flotilla"). */
  parent?: string;
}

function deviceRates(throttles: readonly BlockDeviceThrottle[] | undefined): BlockDeviceRate[] | undefined {
  if (throttles === undefined || throttles.length === 0) return undefined;
  return throttles.map((throttle) => ({ ...blockDeviceNumbers(throttle.path), rate: throttle.rate }));
}

/** Docker's blkio fields as cgroup limits, device paths resolved to major:minor (missing or non-block paths throw). */
export function blockIoLimitsOf(resources: ContainerResources): BlockIoLimits | undefined {
  const limits: BlockIoLimits = {};
  if (resources.blkioWeight !== undefined) limits.weight = resources.blkioWeight;
  const readBps = deviceRates(resources.blkioDeviceReadBps);
  if (readBps) limits.readBps = readBps;
  const writeBps = deviceRates(resources.blkioDeviceWriteBps);
  if (writeBps) limits.writeBps = writeBps;
  const readIops = deviceRates(resources.blkioDeviceReadIops);
  if (readIops) limits.readIops = readIops;
  const writeIops = deviceRates(resources.blkioDeviceWriteIops);
  if (writeIops) limits.writeIops = writeIops;
  return Object.keys(limits).length === 0 ? undefined : limits;
}

export function cgroupLimitsOf(resources: ContainerResources): CgroupLimits {
  const blockIo = blockIoLimitsOf(resources);
  return {
    ...(blockIo !== undefined ? { blockIo } : {}),
    ...(resources.memoryBytes !== undefined ? { memoryBytes: resources.memoryBytes } : {}),
    ...(resources.cpuMillicores !== undefined ? { cpuMillicores: resources.cpuMillicores } : {}),
    ...(resources.cpuShares !== undefined ? { cpuShares: resources.cpuShares } : {}),
    ...(resources.cpusetCpus !== undefined ? { cpusetCpus: resources.cpusetCpus } : {}),
    ...(resources.pidsLimit !== undefined ? { pidsMax: resources.pidsLimit } : {}),
  };
}

/** memory.events on v2; on v1 the memory hierarchy's memory.oom_control. Both carry `oom_kill N`. */
export function oomFileOf(handle: Pick<CgroupHandle, 'version' | 'directories'>): string | undefined {
  if (handle.version === 'v2') {
    const dir = handle.directories[0];
    return dir === undefined ? undefined : join(dir, 'memory.events');
  }
  const memory = handle.directories.find((dir) =>
    dir.split('/').some((part) => part.split(',').includes('memory')),
  );
  return memory === undefined ? undefined : join(memory, 'memory.oom_control');
}

function containerCgroupOf(handle: CgroupHandle): ContainerCgroup {
  const oomFile = oomFileOf(handle);
  return {
    procsFiles: handle.procsFiles,
    version: handle.version,
    directories: handle.directories,
    ...(oomFile !== undefined ? { oomFile } : {}),
    async usage() {
      const usage = await handle.usage();
      return {
        cpuUsageNanos: usage.cpuUsageNanos,
        memoryBytes: usage.memoryBytes,
        ...(usage.memoryLimitBytes !== undefined ? { memoryLimitBytes: usage.memoryLimitBytes } : {}),
        pids: usage.pids,
        blockIo: usage.blockIo,
      };
    },
    freeze: () => handle.freeze(),
    thaw: () => handle.thaw(),
    destroy: () => handle.destroy(),
  };
}

export function containerCgroupsFrom(
  manager: CgroupManager,
  options: ContainerCgroupsOptions = {},
): ContainerCgroups {
  const parent = options.parent ?? 'flotilla';
  const pathOf = (containerId: string): string => `${parent}/${containerId}`;
  return {
    async create(containerId, resources) {
      return containerCgroupOf(await manager.create(pathOf(containerId), cgroupLimitsOf(resources)));
    },
    async open(containerId) {
      if (!(await manager.exists(pathOf(containerId)))) return undefined;
      return containerCgroupOf(await manager.open(pathOf(containerId)));
    },
  };
}
