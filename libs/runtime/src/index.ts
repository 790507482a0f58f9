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
export type { CgroupHandle, CgroupLimits, CgroupManager, CgroupUsage, CgroupVersion } from './cgroups/cgroup.types';
export { DEFAULT_CGROUP_ROOT, detectCgroupVersion } from './cgroups/cgroup-detect';
export { readCgroupCapacity } from './cgroups/cgroup-capacity';
export type { CapacitySource, CgroupCapacity, CgroupCapacityOptions } from './cgroups/cgroup-capacity';
export { cpuQuotaMicros, cpuWeightFromShares } from './cgroups/cgroup-limits';
export { hostCgroupSystem } from './cgroups/cgroup-system';
export type { CgroupSystem } from './cgroups/cgroup-system';
