// The container vocabulary and the seams the ContainerManager composes: a root filesystem provider
// (images and snapshots), cgroups and networking are injected, so each side is testable alone.
import type { ShimExitStatus } from '../shim/shim-status';
import type { UserNamespaceMaps, UserNamespaceRequest } from './user-namespace';

export type ContainerStatus = 'created' | 'running' | 'stopped' | 'removed';

/** The container's root as data: the shim performs the mount inside the container's namespace. */
export interface OverlayRootfs {
  type: 'overlay';
  source: 'overlay';
  /** Where the overlay is mounted (inside the container's mount namespace only). */
  target: string;
  /** lowerdir=...,upperdir=...,workdir=... as separate entries. */
  options: readonly string[];
  /** The container's writable layer: what commit and diff read. */
  upperDir: string;
}

/** What an image contributes to a container unless the user overrides it. */
export interface ImageDefaults {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  stopSignal?: string;
  /** EXPOSE: "80/tcp", "53/udp", as the image config's ExposedPorts keys. */
  exposedPorts?: string[];
}

export interface PreparedRootfs {
  rootfs: OverlayRootfs;
  image: ImageDefaults;
  /** Directories searched (top first) for /etc/passwd and /etc/group when resolving `-u name`. */
  lowerDirs: readonly string[];
}

/** Turns an image reference (or a plain directory) into a container root. Engineer F's snapshots implement it. */
export interface RootfsProvider {
  prepare(request: { containerId: string; containerDir: string; image: string }): Promise<PreparedRootfs>;
  /** Frees what prepare made (upper and work dirs, references). */
  release(request: { containerId: string; containerDir: string }): Promise<void>;
}

export interface ContainerResources {
  memoryBytes?: number;
  /** CPU cap in millicores (`--cpus 1.5` = 1500). */
  cpuMillicores?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  pidsLimit?: number;
  /** `--blkio-weight`: the container's share of a disk against others, 10..1000. */
  blkioWeight?: number;
  /** `--device-read-bps /dev/sda:1mb`: bytes per second read from each device, at most. */
  blkioDeviceReadBps?: BlockDeviceThrottle[];
  blkioDeviceWriteBps?: BlockDeviceThrottle[];
  /** `--device-read-iops /dev/sda:100`: read operations per second on each device, at most. */
  blkioDeviceReadIops?: BlockDeviceThrottle[];
  blkioDeviceWriteIops?: BlockDeviceThrottle[];
}

/**
 * A device by its path, as the user named it (Docker's {Path, Rate}); its major:minor is looked up
 * when the container's cgroup is made, so the record stays readable.
 */
export interface BlockDeviceThrottle {
  path: string;
  rate: number;
}

/** Bytes the container's processes read from and wrote to block devices. */
export interface ContainerBlockIo {
  readBytes: number;
  writeBytes: number;
}

export interface ContainerCgroupUsage {
  cpuUsageNanos: bigint;
  memoryBytes: number;
  memoryLimitBytes?: number;
  pids: number;
  /** Absent where the cgroups behind the container do not report it. */
  blockIo?: ContainerBlockIo;
}

export interface ContainerCgroup {
  /** cgroup.procs files the shim writes the init's pid into (used when version and directories are absent). */
  procsFiles: readonly string[];
  /** With directories: the shim joins the cgroup by directory, without the kernel's global migration lock. */
  version?: 'v1' | 'v2';
  /** The cgroup's directories: one per v1 hierarchy, or the one v2 directory. */
  directories?: readonly string[];
  /** The file whose `oom_kill N` line tells whether the OOM killer acted. */
  oomFile?: string;
  usage(): Promise<ContainerCgroupUsage>;
  /** Stops every process of the container where it is (freezer), e.g. while commit reads its files. */
  freeze?(): Promise<void>;
  thaw?(): Promise<void>;
  destroy(): Promise<void>;
}

/** Per-container cgroups. Engineer G's CgroupManager is adapted to this. */
export interface ContainerCgroups {
  create(containerId: string, resources: ContainerResources): Promise<ContainerCgroup>;
  open(containerId: string): Promise<ContainerCgroup | undefined>;
}

/** `-p [[hostIp:][hostPort]:]containerPort[/protocol]`. */
export interface PublishedPort {
  /** An IPv4 address of the host to publish on; absent: all of them. */
  hostIp?: string;
  /** 0 in a spec: a free port chosen at each start; the attachment records the one chosen. */
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

/** `--network`: bridge (own namespace on the node's bridge), none (own namespace, loopback only), host. */
export type ContainerNetworkMode = 'bridge' | 'none' | 'host';

export interface AttachedNetwork {
  mode: ContainerNetworkMode;
  /** /var/run/netns/NAME or /proc/PID/ns/net: the namespace the shim joins; absent for the host's. */
  namespacePath?: string;
  ipAddress?: string;
  /** The published ports with the host ports actually chosen (inspect, ps, `container port`). */
  ports?: PublishedPort[];
}

/** Per-container networking. Engineer G's BridgeNetwork has this shape. */
export interface NetworkAttacher {
  attach(request: {
    containerId: string;
    mode: ContainerNetworkMode;
    ports: PublishedPort[];
  }): Promise<AttachedNetwork>;
  detach(containerId: string): Promise<void>;
}

export interface VolumeMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** What `container create` / `run` asks for. Absent fields fall back to the image, then to Docker's defaults. */
export interface ContainerSpec {
  name?: string;
  /** An image reference, resolved by the RootfsProvider. */
  image?: string;
  /** A plain directory used as the (read-only) lower layer instead of an image. */
  rootfsDir?: string;
  /** Replaces the image's ENTRYPOINT. */
  entrypoint?: string[];
  /** Replaces the image's CMD. */
  command?: string[];
  env?: string[];
  workingDir?: string;
  /** user, uid, user:group or uid:gid, names resolved in the container's /etc/passwd and /etc/group. */
  user?: string;
  hostname?: string;
  tty?: boolean;
  /** Keep stdin open (`-i`): without a tty it is a pipe that attach clients write to. */
  stdin?: boolean;
  /**
   * Remove the container once it exits, with nobody waiting (`run -d --rm`): the shim runs the
   * manager's autoRemoveCommand in its place, and list() removes any such container it finds stopped.
   */
  autoRemove?: boolean;
  network?: ContainerNetworkMode;
  ports?: PublishedPort[];
  /** `-P`: every port the image EXPOSEs, on a free host port (resolved into ports at create). */
  publishAll?: boolean;
  volumes?: VolumeMount[];
  resources?: ContainerResources;
  readOnlyRootfs?: boolean;
  stopSignal?: string;
  labels?: Record<string, string>;
  /** `--restart`: what the container's exit hook does when it ends (see ContainerManager.restartOnExit). */
  restartPolicy?: RestartPolicy;
  /** `--cap-add` / `--cap-drop`: names with or without CAP_, or ALL (see container-capabilities). */
  capAdd?: string[];
  capDrop?: string[];
  /** A user namespace (`--userns=auto`, `--uidmap`/`--gidmap`); absent: the host's ids, as Docker. */
  userns?: UserNamespaceRequest;
}

/** `--restart no|on-failure[:N]|always|unless-stopped`; N = 0 or absent: no limit. */
export interface RestartPolicy {
  name: 'no' | 'on-failure' | 'always' | 'unless-stopped';
  maximumRetryCount?: number;
}

/** What is stored per container in container.json and shown by inspect. */
export interface ContainerRecord {
  id: string;
  name: string;
  image: string;
  createdAt: string;
  spec: ContainerSpec;
  /** The process as it will run, after image defaults and user resolution. */
  process: {
    args: string[];
    env: string[];
    cwd: string;
    uid: number;
    gid: number;
    additionalGids: number[];
    tty: boolean;
    /** The capabilities resolved from capAdd/capDrop; absent: Docker's default 14, as the shim's own. */
    capabilities?: string[];
  };
  hostname: string;
  stopSignal: string;
  rootfs: OverlayRootfs;
  lowerDirs: readonly string[];
  status: ContainerStatus;
  startedAt?: string;
  network?: AttachedNetwork;
  restartCount: number;
  /** Set by `container stop` until the next start: a restart policy leaves the container stopped. */
  stoppedByUser?: boolean;
  /** Why the restart policy left the container stopped after its last exit (cleared at start). */
  restartPolicyStopped?: string;
  /** The id maps of the container's user namespace, resolved at create (auto picks a free range). */
  userNamespace?: UserNamespaceMaps;
}

export interface ContainerState {
  status: ContainerStatus;
  /** Host pid of the container's init while it runs. */
  pid?: number;
  startedAt?: string;
  exit?: ShimExitStatus;
}

export interface ContainerInfo extends ContainerRecord {
  state: ContainerState;
  /** inspect only, while the container has a cgroup: block I/O so far (docker stats' BLOCK I/O). */
  blockIo?: ContainerBlockIo;
  /** The container's directory: config, log, status. */
  directory: string;
}
