// Making new images from old ones: a tar stream becomes a gzip layer blob (diffID and digest computed in
// one pass), and a config/manifest pair is written on top of a base image. Used by commit and the builder.
import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { writeTar, type MemberToWrite } from '../layers/tar-writer';
import type { ImageStore, StoredImage } from './image.store';
import {
  hostPlatform,
  MEDIA_TYPES,
  type ContainerConfig,
  type Descriptor,
  type HistoryEntry,
  type ImageConfig,
  type ImageManifest,
} from './oci.types';

export interface StoredLayer {
  readonly descriptor: Descriptor;
  readonly diffId: string;
  /** Uncompressed size. */
  readonly size: number;
}

export async function storeLayer(
  store: ImageStore,
  members: AsyncIterable<MemberToWrite> | Iterable<MemberToWrite>,
): Promise<StoredLayer> {
  const diffHash = createHash('sha256');
  let size = 0;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of writeTar(members)) {
      diffHash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  const source = Readable.from(hashed());
  const gzip = createGzip();
  // pipeline destroys gzip with the source's error, which the blob store's read loop then throws.
  pipeline(source, gzip, () => undefined);
  const blob = await store.blobs.put(gzip);
  return {
    descriptor: { mediaType: MEDIA_TYPES.ociLayerGzip, digest: blob.digest, size: blob.size },
    diffId: `sha256:${diffHash.digest('hex')}`,
    size,
  };
}

export interface NewImageOptions {
  /** The image to build on; absent for `FROM scratch`. */
  readonly base?: StoredImage;
  /** A new layer on top, absent for metadata-only changes. */
  readonly layer?: StoredLayer;
  /** Replaces the runtime config (the builder's accumulated state) when given. */
  readonly config?: ContainerConfig;
  readonly history: HistoryEntry;
  readonly author?: string;
  /** Names to register; none leaves the image dangling (intermediate build steps). */
  readonly names?: readonly string[];
  /** A build step's image: kept for the cache, hidden from `image ls`. */
  readonly intermediate?: boolean;
  /** Fixed creation time (tests, reproducible builds). */
  readonly created?: string;
}

export async function writeImage(store: ImageStore, options: NewImageOptions): Promise<StoredImage> {
  const created = options.created ?? new Date().toISOString();
  const platform = hostPlatform();
  const base = options.base;
  const runtimeConfig = options.config ?? base?.config.config;
  const config: ImageConfig = {
    created,
    ...(options.author === undefined
      ? base?.config.author === undefined
        ? {}
        : { author: base.config.author }
      : { author: options.author }),
    architecture: base?.config.architecture ?? platform.architecture,
    os: base?.config.os ?? platform.os,
    ...(base?.config.variant === undefined ? {} : { variant: base.config.variant }),
    ...(runtimeConfig === undefined || runtimeConfig === null ? {} : { config: runtimeConfig }),
    rootfs: {
      type: 'layers',
      diff_ids: [...(base?.config.rootfs.diff_ids ?? []), ...(options.layer ? [options.layer.diffId] : [])],
    },
    history: [
      ...(base?.config.history ?? []),
      { created, ...options.history, ...(options.layer ? {} : { empty_layer: true }) },
    ],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configBlob = await store.blobs.put(configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: configBlob.digest, size: configBlob.size },
    layers: [...(base?.manifest.layers ?? []), ...(options.layer ? [options.layer.descriptor] : [])],
  };
  const manifestBlob = await store.blobs.put(Buffer.from(JSON.stringify(manifest)));
  return store.addImage(manifestBlob.digest, options.names ?? [], {
    intermediate: options.intermediate ?? false,
  });
}
