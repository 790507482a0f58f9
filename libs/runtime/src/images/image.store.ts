// The node's images: an OCI image layout under the state dir (blobs/sha256, index.json whose entries carry
// the image names), unpacked layers keyed by chain ID beside it, and Docker-like operations on top:
// list, resolve, tag, remove, inspect and garbage collection.
import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainIds, isDigest } from '../layers/chain-id';
import { LayerStore, type LayerRecord } from '../layers/layer.store';
import type { DecompressionLimits } from '../layers/layer-stream';
import { BlobStore } from './blob.store';
import { familiarReference, formatReference, parseReference, ReferenceError } from './image-reference';
import {
  asImageConfig,
  asIndex,
  asManifest,
  IMAGE_NAME_ANNOTATION,
  MEDIA_TYPES,
  parseJson,
  REF_NAME_ANNOTATION,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from './oci.types';
import { resolveStateDir, stateLayout, type StateLayout } from './state-dir';
import { withStateLock } from './state-lock';

export class ImageNotFoundError extends Error {
  override readonly name = 'ImageNotFoundError';
}

export class ImageInUseError extends Error {
  override readonly name = 'ImageInUseError';
}

export interface ImageStoreOptions {
  /** Defaults to $FLOTILLA_STATE_DIR, else /var/lib/flotilla. */
  readonly stateDir?: string;
  readonly limits?: DecompressionLimits;
}

/** One image as stored: its manifest, config and the names that point at it. */
export interface StoredImage {
  /** The config digest, Docker's image ID. */
  readonly id: string;
  readonly manifestDigest: string;
  readonly manifest: ImageManifest;
  readonly config: ImageConfig;
  /** Fully qualified names ("docker.io/library/busybox:latest"); empty for a dangling image. */
  readonly names: readonly string[];
  /** A build step's image that only the build cache refers to. */
  readonly intermediate?: boolean;
}

export interface ImageSummary {
  readonly id: string;
  readonly manifestDigest: string;
  /** Familiar names ("busybox:latest"). */
  readonly names: readonly string[];
  readonly created?: string;
  /** Unpacked size where the layers are unpacked, else the compressed blobs'. */
  readonly size: number;
}

/** Marks build steps' images: kept for the build cache, hidden from `image ls` unless asked for. */
export const INTERMEDIATE_ANNOTATION = 'io.flotilla.image.intermediate';

export interface AddImageOptions {
  readonly intermediate?: boolean;
}

export interface RemoveResult {
  readonly untagged: readonly string[];
  readonly deleted: readonly string[];
}

export interface GcResult {
  readonly blobs: number;
  readonly layers: number;
}

/** What a snapshot records so GC keeps the layers (and image) it stands on. */
export interface SnapshotReference {
  readonly key: string;
  readonly imageId?: string;
  readonly chainIds: readonly string[];
}

const EMPTY_INDEX: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };

export class ImageStore {
  readonly layout: StateLayout;
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  private readonly limits: DecompressionLimits | undefined;

  constructor(options: ImageStoreOptions = {}) {
    this.layout = stateLayout(resolveStateDir(options.stateDir));
    this.blobs = new BlobStore(this.layout.images, this.layout.tmp);
    this.layers = new LayerStore(this.layout.layers);
    this.limits = options.limits;
  }

  // ---- the index ------------------------------------------------------------------------------------

  private get indexPath(): string {
    return join(this.layout.images, 'index.json');
  }

  async readIndex(): Promise<ImageIndex> {
    try {
      return asIndex(parseJson(readFileSync(this.indexPath), this.indexPath), this.indexPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_INDEX;
      throw error;
    }
  }

  /** Read-modify-write of index.json under the state lock; the new index is renamed into place. */
  private async updateIndex<T>(
    change: (index: ImageIndex) => Promise<{ index: ImageIndex; result: T }>,
  ): Promise<T> {
    await fs.mkdir(this.layout.images, { recursive: true });
    return withStateLock(join(this.layout.images, 'index.lock'), async () => {
      const { index, result } = await change(await this.readIndex());
      await this.writeLayoutFile('oci-layout', `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`);
      await this.writeLayoutFile('index.json', `${JSON.stringify(index, null, 2)}\n`);
      return result;
    });
  }

  private async writeLayoutFile(name: string, content: string): Promise<void> {
    const tmp = join(this.layout.images, `.${name}.${process.pid}.tmp`);
    await fs.writeFile(tmp, content);
    await fs.rename(tmp, join(this.layout.images, name));
  }

  // ---- reading images -------------------------------------------------------------------------------

  async list(options: { all?: boolean } = {}): Promise<ImageSummary[]> {
    const images = await this.images();
    return images
      .filter((image) => options.all || !image.intermediate)
      .map((image) => ({
        id: image.id,
        manifestDigest: image.manifestDigest,
        names: image.names.map((name) => familiarReference(parseReference(name))),
        ...(image.config.created === undefined ? {} : { created: image.config.created }),
        size: this.imageSize(image),
      }));
  }

  /** Docker's SIZE: the unpacked layers' size where they are unpacked, else the compressed blobs'. */
  imageSize(image: StoredImage): number {
    const chain = chainIds(image.config.rootfs.diff_ids);
    return image.manifest.layers.reduce((total, layer, position) => {
      const chainId = chain[position];
      const unpacked = chainId === undefined ? undefined : this.layers.getSync(chainId);
      return total + (unpacked?.size ?? layer.size);
    }, 0);
  }

  /** Every image once, with all its names. */
  async images(): Promise<StoredImage[]> {
    const index = await this.readIndex();
    const byManifest = new Map<string, { descriptor: Descriptor; names: string[]; intermediate: boolean }>();
    for (const descriptor of index.manifests) {
      const name = descriptor.annotations?.[IMAGE_NAME_ANNOTATION];
      const entry = byManifest.get(descriptor.digest) ?? { descriptor, names: [], intermediate: true };
      if (name !== undefined) entry.names.push(name);
      // Any plain entry (a name, or a dangling load) makes the image a user's image.
      if (descriptor.annotations?.[INTERMEDIATE_ANNOTATION] !== 'true') entry.intermediate = false;
      byManifest.set(descriptor.digest, entry);
    }
    const images: StoredImage[] = [];
    for (const { descriptor, names, intermediate } of byManifest.values()) {
      const image = await this.readImage(descriptor.digest, names);
      images.push(intermediate ? { ...image, intermediate } : image);
    }
    return images;
  }

  async readImage(manifestDigest: string, names: readonly string[] = []): Promise<StoredImage> {
    const manifest = asManifest(
      parseJson(await this.blobs.read(manifestDigest), `manifest ${manifestDigest}`),
      `manifest ${manifestDigest}`,
    );
    const config = asImageConfig(
      parseJson(await this.blobs.read(manifest.config.digest), `config ${manifest.config.digest}`),
    );
    return { id: manifest.config.digest, manifestDigest, manifest, config, names: [...names].sort() };
  }

  /**
   * Finds an image by name ("busybox", "busybox:1.36", "repo@sha256:<manifest>"), by ID or a unique
   * ID prefix (at least 4 hex digits), or by manifest digest.
   */
  async resolve(reference: string): Promise<StoredImage> {
    let parsed: ReturnType<typeof parseReference> | undefined;
    try {
      parsed = parseReference(reference);
    } catch (error) {
      if (!(error instanceof ReferenceError) || !/^(sha256:)?[a-f0-9]{4,64}$/.test(reference)) throw error;
    }
    if (parsed !== undefined) {
      // Names and manifest digests are answered from index.json alone: a container start reads only
      // its own image, however many the node has.
      const index = await this.readIndex();
      const full = formatReference(parsed);
      const entry =
        index.manifests.find((descriptor) => descriptor.annotations?.[IMAGE_NAME_ANNOTATION] === full) ??
        (parsed.digest === undefined
          ? undefined
          : index.manifests.find((descriptor) => descriptor.digest === parsed?.digest));
      if (entry !== undefined) {
        const names = index.manifests
          .filter((descriptor) => descriptor.digest === entry.digest)
          .flatMap((descriptor) => descriptor.annotations?.[IMAGE_NAME_ANNOTATION] ?? []);
        return this.readImage(entry.digest, names);
      }
    }
    const images = await this.images();
    if (/^(sha256:)?[a-f0-9]{4,64}$/.test(reference)) {
      const prefix = reference.startsWith('sha256:') ? reference : `sha256:${reference}`;
      const matches = images.filter(
        (image) => image.id.startsWith(prefix) || image.manifestDigest === prefix,
      );
      if (matches.length === 1) return matches[0] as StoredImage;
      if (matches.length > 1)
        throw new ImageNotFoundError(
          `${reference} matches ${matches.length} images; give more digits, a manifest digest or a name`,
        );
    }
    throw new ImageNotFoundError(
      `no image ${reference} on this node; pull, load or build it first (flotilla image ls lists what is here)`,
    );
  }

  // ---- changing images ------------------------------------------------------------------------------

  /**
   * Registers an image whose manifest, config and layer blobs are already in the blob store, under the
   * given names (none makes it dangling). A name that pointed elsewhere moves to this image.
   */
  async addImage(
    manifestDigest: string,
    names: readonly string[],
    options: AddImageOptions = {},
  ): Promise<StoredImage> {
    const image = await this.readImage(manifestDigest);
    for (const descriptor of [image.manifest.config, ...image.manifest.layers]) {
      if (!(await this.blobs.has(descriptor.digest))) {
        throw new ImageNotFoundError(
          `image ${manifestDigest} is incomplete: blob ${descriptor.digest} is missing; pull or load it again`,
        );
      }
    }
    const fullNames = [...new Set(names.map((name) => formatReference(parseReference(name))))];
    const size = await this.blobs.size(manifestDigest);
    const mediaType = image.manifest.mediaType ?? MEDIA_TYPES.ociManifest;
    await this.updateIndex(async (index) => {
      const kept = index.manifests.filter((descriptor) => {
        const name = descriptor.annotations?.[IMAGE_NAME_ANNOTATION];
        if (name !== undefined) return !fullNames.includes(name);
        // A dangling entry for the same manifest is superseded by a named one.
        return descriptor.digest !== manifestDigest || fullNames.length === 0;
      });
      const alreadyListed = kept.some((descriptor) => descriptor.digest === manifestDigest);
      const added: Descriptor[] =
        fullNames.length === 0
          ? alreadyListed
            ? []
            : [
                {
                  mediaType,
                  digest: manifestDigest,
                  size,
                  ...(options.intermediate ? { annotations: { [INTERMEDIATE_ANNOTATION]: 'true' } } : {}),
                },
              ]
          : fullNames.map((name) => ({
              mediaType,
              digest: manifestDigest,
              size,
              annotations: nameAnnotations(name),
            }));
      return { index: { ...index, manifests: [...kept, ...added] }, result: undefined };
    });
    return { ...image, names: [...fullNames].sort() };
  }

  async tag(source: string, target: string): Promise<string> {
    const image = await this.resolve(source);
    const name = formatReference(parseReference(target));
    if (parseReference(target).digest !== undefined)
      throw new ReferenceError(
        `cannot tag with a digest (${target}); a tag names an image, a digest is its content`,
      );
    await this.addImage(image.manifestDigest, [name, ...image.names]);
    return name;
  }

  /**
   * Docker's rmi: a name is untagged, and the image is deleted once no name is left. Removing by ID an
   * image with several names, or an image a container snapshot stands on, needs `force`.
   */
  async remove(
    reference: string,
    options: { force?: boolean; snapshots?: readonly SnapshotReference[] } = {},
  ): Promise<RemoveResult> {
    const image = await this.resolve(reference);
    let byName: string | undefined;
    try {
      const full = formatReference(parseReference(reference));
      if (image.names.includes(full)) byName = full;
    } catch {
      // an ID, not a name
    }
    if (byName === undefined && image.names.length > 1 && !options.force) {
      throw new ImageInUseError(
        `image ${shortId(image.id)} has several names (${image.names.map((name) => familiarReference(parseReference(name))).join(', ')}); remove them by name or use --force`,
      );
    }
    const untag = byName === undefined ? image.names : [byName];
    const deleting = untag.length === image.names.length;
    const snapshots = options.snapshots ?? (await this.snapshotReferences());
    const users = snapshots.filter((snapshot) => snapshot.imageId === image.id);
    if (deleting && users.length > 0 && !options.force) {
      throw new ImageInUseError(
        `image ${shortId(image.id)} is used by container ${users.map((user) => user.key).join(', ')}; remove the container first or use --force`,
      );
    }
    await this.updateIndex(async (index) => ({
      index: {
        ...index,
        manifests: index.manifests.filter((descriptor) => {
          if (descriptor.digest !== image.manifestDigest) return true;
          const name = descriptor.annotations?.[IMAGE_NAME_ANNOTATION];
          if (deleting) return false;
          return name === undefined || !untag.includes(name);
        }),
      },
      result: undefined,
    }));
    if (deleting) await this.gc(snapshots);
    return {
      untagged: untag.map((name) => familiarReference(parseReference(name))),
      deleted: deleting ? [image.id] : [],
    };
  }

  /** Deletes blobs no image references and unpacked layers no image or snapshot stands on. */
  async gc(given?: readonly SnapshotReference[]): Promise<GcResult> {
    const snapshots = given ?? (await this.snapshotReferences());
    return withStateLock(join(this.layout.images, 'index.lock'), async () => {
      const images = await this.images();
      const liveBlobs = new Set<string>();
      const liveLayers = new Set<string>();
      for (const image of images) {
        liveBlobs.add(image.manifestDigest);
        liveBlobs.add(image.manifest.config.digest);
        for (const layer of image.manifest.layers) liveBlobs.add(layer.digest);
        for (const chainId of chainIds(image.config.rootfs.diff_ids)) liveLayers.add(chainId);
      }
      for (const snapshot of snapshots) for (const chainId of snapshot.chainIds) liveLayers.add(chainId);
      // Content written since the oldest running pull, load, build or commit began may be about to
      // become an image: it is not garbage yet.
      const leasedSince = await this.oldestActiveLease();
      const leased = async (path: string): Promise<boolean> =>
        leasedSince !== undefined &&
        ((await fs.lstat(path).catch(() => undefined))?.mtimeMs ?? 0) >= leasedSince - 1000;
      let blobs = 0;
      for (const digest of await this.blobs.list()) {
        if (!liveBlobs.has(digest) && !(await leased(this.blobs.path(digest)))) {
          await this.blobs.remove(digest);
          blobs++;
        }
      }
      let layers = 0;
      for (const chainId of await this.layers.list()) {
        if (!liveLayers.has(chainId) && !(await leased(this.layers.directory(chainId)))) {
          await this.layers.remove(chainId);
          layers++;
        }
      }
      // Extractions that crashed an hour ago will never finish.
      await this.layers.removeStaleTemporaries(60 * 60 * 1000);
      return { blobs, layers };
    }).catch(async (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { blobs: 0, layers: 0 };
      throw error;
    });
  }

  /**
   * Forgets the build cache: build steps' intermediate images leave the index and the cache's step
   * records go, so the next GC frees their blobs and layers. Named images are untouched.
   */
  async dropBuildCache(): Promise<number> {
    const dropped = await this.updateIndex(async (index) => {
      const kept = index.manifests.filter(
        (descriptor) => descriptor.annotations?.[INTERMEDIATE_ANNOTATION] !== 'true',
      );
      return { index: { ...index, manifests: kept }, result: index.manifests.length - kept.length };
    });
    await fs.rm(join(this.layout.root, 'build-cache'), { recursive: true, force: true });
    return dropped;
  }

  /**
   * Runs work that writes blobs or layers before they belong to an image (pull, load, build, commit)
   * under a lease, so a GC in another process leaves that content alone until the work is done.
   */
  async withLease<T>(work: () => Promise<T>): Promise<T> {
    const directory = join(this.layout.images, 'leases');
    await fs.mkdir(directory, { recursive: true });
    const lease = join(directory, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`);
    await fs.writeFile(lease, String(process.pid));
    try {
      return await work();
    } finally {
      await fs.rm(lease, { force: true });
    }
  }

  /** Start time of the oldest lease whose process still runs; leases of dead processes are removed. */
  private async oldestActiveLease(): Promise<number | undefined> {
    const directory = join(this.layout.images, 'leases');
    let names: string[];
    try {
      names = await fs.readdir(directory);
    } catch {
      return undefined;
    }
    let oldest: number | undefined;
    for (const name of names) {
      const path = join(directory, name);
      const pid = Number(name.split('-')[0]);
      if (!Number.isInteger(pid) || pid <= 0 || !processRuns(pid)) {
        await fs.rm(path, { force: true });
        continue;
      }
      const stat = await fs.lstat(path).catch(() => undefined);
      if (stat !== undefined) oldest = Math.min(oldest ?? stat.mtimeMs, stat.mtimeMs);
    }
    return oldest;
  }

  /**
   * What the container snapshots in this state dir stand on (snapshots/<key>/snapshot.json), so removal
   * and GC never pull layers from under a container, whoever calls them.
   */
  async snapshotReferences(): Promise<SnapshotReference[]> {
    let keys: string[];
    try {
      keys = await fs.readdir(this.layout.snapshots);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const references: SnapshotReference[] = [];
    for (const key of keys) {
      try {
        const record = JSON.parse(
          await fs.readFile(join(this.layout.snapshots, key, 'snapshot.json'), 'utf8'),
        ) as Partial<SnapshotReference>;
        if (Array.isArray(record.chainIds)) {
          references.push({
            key,
            chainIds: record.chainIds,
            ...(typeof record.imageId === 'string' ? { imageId: record.imageId } : {}),
          });
        }
      } catch {
        // a snapshot being made or removed right now has no record yet; its layers are still on disk
      }
    }
    return references;
  }

  /** Unpacks the image's layers (once; later calls are quick) and answers their records, base first. */
  async unpack(image: StoredImage): Promise<LayerRecord[]> {
    const diffIds = image.config.rootfs.diff_ids;
    if (diffIds.length !== image.manifest.layers.length) {
      throw new ImageNotFoundError(
        `image ${shortId(image.id)} is inconsistent: its config lists ${diffIds.length} layers, its manifest ${image.manifest.layers.length}`,
      );
    }
    const chain = chainIds(diffIds);
    const records: LayerRecord[] = [];
    for (const [position, layer] of image.manifest.layers.entries()) {
      const chainId = chain[position] as string;
      const parent = chain[position - 1];
      records.push(
        await this.layers.ensure({
          chainId,
          diffId: diffIds[position] as string,
          ...(parent === undefined ? {} : { parent }),
          blobDigest: layer.digest,
          open: () => this.blobs.open(layer.digest),
          ...(this.limits === undefined ? {} : { limits: this.limits }),
        }),
      );
    }
    return records;
  }

  /** Docker-like `image inspect` output. */
  async inspect(reference: string): Promise<Record<string, unknown>> {
    const image = await this.resolve(reference);
    const familiar = image.names.map((name) => parseReference(name));
    return {
      Id: image.id,
      RepoTags: familiar.filter((name) => name.tag !== undefined).map((name) => familiarReference(name)),
      RepoDigests: [
        ...new Set(
          familiar.map((name) =>
            familiarReference({
              registry: name.registry,
              repository: name.repository,
              digest: image.manifestDigest,
            }),
          ),
        ),
      ],
      Created: image.config.created ?? '',
      Author: image.config.author ?? '',
      Architecture: image.config.architecture,
      Os: image.config.os,
      ...(image.config.variant === undefined ? {} : { Variant: image.config.variant }),
      Size: this.imageSize(image),
      Config: image.config.config ?? {},
      RootFS: { Type: 'layers', Layers: image.config.rootfs.diff_ids },
      History: image.config.history ?? [],
      Descriptor: {
        mediaType: image.manifest.mediaType ?? MEDIA_TYPES.ociManifest,
        digest: image.manifestDigest,
      },
    };
  }
}

function nameAnnotations(fullName: string): Record<string, string> {
  const tag = parseReference(fullName).tag;
  return { [IMAGE_NAME_ANNOTATION]: fullName, ...(tag === undefined ? {} : { [REF_NAME_ANNOTATION]: tag }) };
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function shortId(id: string): string {
  return isDigest(id) ? id.slice('sha256:'.length, 'sha256:'.length + 12) : id;
}
