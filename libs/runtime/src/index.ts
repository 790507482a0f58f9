// The node's container engine. Each area (images, snapshots, cgroups, network, containers) sits in its
// own folder behind a small interface; this file names what the rest of Flotilla may use.
export const RUNTIME_NAME = 'flotilla';
// layers (engineer F)
export { extractLayer } from './layers/layer-extractor';
export type { ExtractLayerOptions, ExtractLayerResult } from './layers/layer-extractor';
export { LayerError } from './layers/layer.error';
export type { LayerErrorCode } from './layers/layer.error';
export { readTar } from './layers/tar-reader';
export type { TarMember } from './layers/tar-reader';
export { tarToBuffer, writeTar } from './layers/tar-writer';
export type { MemberToWrite } from './layers/tar-writer';
export type { EntryToWrite, TarEntry, TarEntryType } from './layers/tar-header';
export { chainIds } from './layers/chain-id';
export type { DecompressionLimits } from './layers/layer-stream';
// cgroups (engineer G)
export { createCgroupManager } from './cgroups/cgroup-manager';
export type { CgroupManagerOptions } from './cgroups/cgroup-manager';
export { CgroupError } from './cgroups/cgroup.types';
export type {
  BlockDeviceRate,
  BlockIoLimits,
  BlockIoUsage,
  CgroupHandle,
  CgroupLimits,
  CgroupManager,
  CgroupUsage,
  CgroupVersion,
} from './cgroups/cgroup.types';
export { DEFAULT_CGROUP_ROOT, detectCgroupVersion } from './cgroups/cgroup-detect';
export { cgroupAncestry, parseProcCgroup, readCgroupCapacity } from './cgroups/cgroup-capacity';
export type { CapacitySource, CgroupCapacity, CgroupCapacityOptions } from './cgroups/cgroup-capacity';
export { cpuQuotaMicros, cpuWeightFromShares } from './cgroups/cgroup-limits';
export { hostCgroupSystem } from './cgroups/cgroup-system';
export type { CgroupSystem } from './cgroups/cgroup-system';
// images (engineer F)
export { ImageStore, ImageInUseError, ImageNotFoundError, shortId } from './images/image.store';
export type {
  GcResult,
  ImageStoreOptions,
  ImageSummary,
  RemoveResult,
  SnapshotReference,
  StoredImage,
} from './images/image.store';
export { loadImageArchive, saveImageArchive } from './images/image-archive';
export type { LoadedImage, LoadOptions } from './images/image-archive';
export { BlobError, BlobStore } from './images/blob.store';
export {
  familiarReference,
  formatReference,
  normaliseReference,
  parseReference,
  ReferenceError,
} from './images/image-reference';
export type { ImageReference } from './images/image-reference';
export { ImageFormatError, MEDIA_TYPES } from './images/oci.types';
export type {
  ContainerConfig,
  Descriptor,
  HealthConfig,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  Platform,
} from './images/oci.types';
export { ensureSpreadDirectory } from './storage/spread-directory';
export { DEFAULT_STATE_DIR, resolveStateDir, stateLayout } from './images/state-dir';
export type { StateLayout } from './images/state-dir';
export { LayerStore } from './layers/layer.store';
export type { LayerRecord } from './layers/layer.store';
// network (engineer G)
export { BridgeNetwork } from './network/bridge-network';
export type { AttachOptions, BridgeNetworkOptions, PeerRoute } from './network/bridge-network';
export {
  createNetworkNamespace,
  deleteNetworkNamespace,
  NETNS_DIRECTORY,
  namespacePath,
} from './network/network-namespace';
export { NetworkError } from './network/network.types';
export type {
  NamespaceConfigurator,
  NamespaceInterfaceSetup,
  NetworkAttachment,
  NetworkMode,
  PortMapping,
  PortProtocol,
} from './network/network.types';
export { formatPortMapping, parsePortMapping } from './network/port-mapping';
export { Ipam } from './network/ipam';
export { runChecked, runCommand } from './network/command-runner';
export { IpBatchSession } from './network/ip-batch.session';
export type { IpBatchResult, IpBatchSessionOptions } from './network/ip-batch.session';
export type { CommandResult } from './network/command-runner';
export type { IpamOptions } from './network/ipam';
export type { FirewallKind, PortForwarder } from './network/port-forwarder';
export { ServiceProxy, serviceRuleset } from './network/service-proxy';
export type { ServiceBackend, ServiceProxyOptions, ServiceRule } from './network/service-proxy';
// snapshots (engineer F)
export { SnapshotError, SnapshotStore } from './snapshots/snapshot.store';
export type {
  CommitOptions,
  ContainerRootfs,
  OverlayMount,
  PrepareOptions,
  SnapshotRecord,
} from './snapshots/snapshot.store';
export { ImageRootfsProvider } from './snapshots/image-rootfs.provider';
export type { ImageRootfs, ImageRootfsProviderOptions } from './snapshots/image-rootfs.provider';
export { storeLayer, writeImage } from './images/image-writer';
export type { NewImageOptions, StoredLayer } from './images/image-writer';
export { directoryLayerMembers } from './layers/directory-layer';
// containers and shim (engineer E)
export { ContainerManager } from './containers/container-manager';
export type {
  ContainerManagerOptions,
  ContainerStats,
  ExecOptions,
  StopOptions,
} from './containers/container-manager';
export { ContainerError } from './containers/container.error';
export type { ContainerErrorCode } from './containers/container.error';
export { canMove, nextStatus } from './containers/container-lifecycle';
export type { ContainerTransition } from './containers/container-lifecycle';
export { parseLogLine, readContainerLog } from './containers/container-logs';
export type { LogEntry, LogReadOptions, LogStream } from './containers/container-logs';
export { DirectoryRootfsProvider } from './containers/directory-rootfs';
export { cgroupLimitsOf, containerCgroupsFrom } from './containers/container-cgroups.adapter';
export type { ContainerCgroupsOptions } from './containers/container-cgroups.adapter';
export { createNodeContainerManager } from './containers/node-containers';
export {
  AUTO_RANGE_SIZE,
  DEFAULT_SUBORDINATE_RANGE,
  SUBORDINATE_ID_OWNER,
  parseIdMapping,
} from './containers/user-namespace';
export type { IdMapping, UserNamespaceMaps, UserNamespaceRequest } from './containers/user-namespace';
export type { NodeContainersOptions } from './containers/node-containers';
export { parseSignal } from './containers/container-signals';
export type {
  ContainerCgroup,
  BlockDeviceThrottle,
  ContainerBlockIo,
  ContainerCgroupUsage,
  ContainerCgroups,
  ContainerInfo,
  ContainerRecord,
  ContainerResources,
  ContainerSpec,
  ContainerState,
  ContainerStatus,
  ImageDefaults,
  AttachedNetwork,
  ContainerNetworkMode,
  NetworkAttacher,
  OverlayRootfs,
  PreparedRootfs,
  PublishedPort,
  RestartPolicy,
  RootfsProvider,
  VolumeMount,
} from './containers/container.types';
export { encodeCloseStdin, encodeResize, encodeStdin } from './shim/attach-protocol';
export type { ShimExitCommand } from './shim/shim-config';
export { locateShimBinary } from './shim/shim-binary';
export { ResidentShimLauncher, resizeExec } from './shim/shim-launcher';
export type { ShimExitStatus } from './shim/shim-status';
// registry (engineer F)
export { RegistryClient, RegistryError } from './registry/registry.client';
export type {
  PullOptions,
  PushOptions,
  RegistryClientOptions,
  RegistryProgress,
} from './registry/registry.client';
export { dockerConfigCredentials, parseChallenges, RegistryAuthError } from './registry/registry-auth';
export type { Challenge, CredentialSource, Credentials } from './registry/registry-auth';
// build (engineer F)
export { ImageBuilder } from './build/image-builder';
export type {
  BuildOptions,
  BuildProgress,
  RunStep,
  RunStepRequest,
  RunStepResult,
} from './build/image-builder';
export { ContainerRunStep } from './build/container-run-step';
export type { ContainerRunStepOptions } from './build/container-run-step';
export { ContainerfileError, parseContainerfile } from './build/containerfile.parser';
export type { Instruction } from './build/containerfile.parser';
export { INTERMEDIATE_ANNOTATION } from './images/image.store';
export type { AddImageOptions } from './images/image.store';
// container commit (engineer F)
export { commitContainer } from './snapshots/container-commit';
export type { CommitContainerOptions } from './snapshots/container-commit';
export { applyConfigChanges } from './build/config-changes';
