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
