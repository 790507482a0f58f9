// The ContainerManager as a node runs it: images and snapshots from the state dir, the host's
// cgroups (v1 or v2, detected once) and the node's bridge network. The CLI and the node agent use
// this; tests compose the parts themselves.
import { createCgroupManager } from '../cgroups/cgroup-manager';
import { ImageStore } from '../images/image.store';
import { resolveStateDir } from '../images/state-dir';
import { BridgeNetwork } from '../network/bridge-network';
import { ImageRootfsProvider } from '../snapshots/image-rootfs.provider';
import { locateShimBinary } from '../shim/shim-binary';
import type { ShimExitCommand } from '../shim/shim-config';
import { ResidentShimLauncher } from '../shim/shim-launcher';
import { containerCgroupsFrom } from './container-cgroups.adapter';
import { ContainerManager } from './container-manager';

export interface NodeContainersOptions {
  stateDir?: string;
  /** Where the cgroup filesystem is mounted (default /sys/fs/cgroup). */
  cgroupRoot?: string;
  /** The cgroup containers go under (default "flotilla"). */
  cgroupParent?: string;
  /** See ContainerManagerOptions.autoRemoveCommand (the CLI passes `flotilla container rm`). */
  autoRemoveCommand?: (containerId: string) => ShimExitCommand;
  /** See ContainerManagerOptions.restartCommand (the CLI passes `flotilla container restart-on-exit`). */
  restartCommand?: (containerId: string) => ShimExitCommand;
}

export async function createNodeContainerManager(
  options: NodeContainersOptions = {},
): Promise<ContainerManager> {
  const stateDir = resolveStateDir(options.stateDir);
  const cgroups = await createCgroupManager(
    options.cgroupRoot !== undefined ? { root: options.cgroupRoot } : {},
  );
  // One launcher process starts the shims and configures the containers' namespaces.
  const launcher = new ResidentShimLauncher(locateShimBinary());
  return new ContainerManager({
    stateDir,
    launcher,
    images: new ImageRootfsProvider(new ImageStore({ stateDir })),
    cgroups: containerCgroupsFrom(
      cgroups,
      options.cgroupParent !== undefined ? { parent: options.cgroupParent } : {},
    ),
    network: new BridgeNetwork({ stateDir, namespaceConfigurator: launcher }),
    ...(options.autoRemoveCommand ? { autoRemoveCommand: options.autoRemoveCommand } : {}),
    ...(options.restartCommand ? { restartCommand: options.restartCommand } : {}),
  });
}
