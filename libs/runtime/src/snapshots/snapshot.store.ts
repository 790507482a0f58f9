// Container root file systems as data: an overlay of the image's unpacked layers (shared, never copied)
// with a private upper and work dir per container. We describe the mount; the shim performs it inside
// the container's own mount namespace. `commit` turns an upper dir back into a layer and an image.
import { mkdirSync, promises as fs, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { directoryLayerMembers } from '../layers/directory-layer';
import { ensureSpreadDirectory } from '../storage/spread-directory';
import { chainIds } from '../layers/chain-id';
import type { ImageStore, SnapshotReference, StoredImage } from '../images/image.store';
import { storeLayer, writeImage } from '../images/image-writer';
import type { ContainerConfig } from '../images/oci.types';
import { containerOwners, type UserNamespaceMaps } from '../containers/user-namespace';

export interface OverlayMount {
  readonly type: 'overlay';
  readonly source: 'overlay';
  readonly target: string;
  /** ["lowerdir=top:...:base", "upperdir=...", "workdir=..."] */
  readonly options: readonly string[];
}

export interface ContainerRootfs {
  readonly key: string;
  readonly mount: OverlayMount;
  /** Where the container's changes land (what commit and diff read). */
  readonly upperDir: string;
  readonly workDir: string;
  /** The image's layer directories, top first (for reading files such as /etc/passwd without mounting). */
  readonly lowerDirs: readonly string[];
  readonly imageId?: string;
}

export interface SnapshotRecord extends SnapshotReference {
  readonly manifestDigest?: string;
  readonly created: string;
}

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

export interface PrepareOptions {
  /** Names the snapshot (usually the container ID). */
  readonly key: string;
  /** The image to stand on; absent for an empty root. */
  readonly image?: StoredImage;
  /** Mount point the shim will use; defaults to snapshots/<key>/merged. */
  readonly target?: string;
}

export interface CommitOptions {
  readonly key: string;
  /** Names for the new image (none leaves it dangling). */
  readonly names?: readonly string[];
  readonly author?: string;
  readonly comment?: string;
  /** Replaces the image's runtime config (CMD, ENV, ...) in the new image. */
  readonly config?: ContainerConfig;
  /** Recorded in the image history ("created_by"). */
  readonly createdBy?: string;
  /** A build step's image (hidden from `image ls`, kept for the build cache). */
  readonly intermediate?: boolean;
  /** The container's user namespace: its files are stored under host ids, recorded as its own. */
  readonly userNamespace?: UserNamespaceMaps;
}

const KEY = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
// The kernel copies mount options into one page; longer lowerdir lists fail with a confusing EINVAL.
const MAX_MOUNT_DATA = 4095;

export class SnapshotStore {
  readonly root: string;

  constructor(private readonly images: ImageStore) {
    this.root = images.layout.snapshots;
  }

  private directory(key: string): string {
    if (!KEY.test(key)) {
      throw new SnapshotError(
        `snapshot key ${JSON.stringify(key)} must be 1-128 letters, digits, "_", "." or "-", starting with a letter or digit`,
      );
    }
    return join(this.root, key);
  }

  async prepare(options: PrepareOptions): Promise<ContainerRootfs> {
    const directory = this.directory(options.key);
    try {
      mkdirSync(directory, { recursive: false, mode: 0o711 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new SnapshotError(`snapshot ${options.key} already exists; remove it first`);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      ensureSpreadDirectory(this.root, { mode: 0o711 });
      mkdirSync(directory, { mode: 0o711 });
    }
    try {
      const layers = options.image === undefined ? [] : await this.images.unpack(options.image);
      const record: SnapshotRecord = {
        key: options.key,
        ...(options.image === undefined
          ? {}
          : { imageId: options.image.id, manifestDigest: options.image.manifestDigest }),
        chainIds: layers.map((layer) => layer.chainId),
        created: new Date().toISOString(),
      };
      // Synchronous: a container start waits on these few calls, and thread-pool round trips cost more than they do.
      mkdirSync(join(directory, 'upper'), { mode: 0o755 });
      mkdirSync(join(directory, 'work'), { mode: 0o700 });
      mkdirSync(join(directory, 'merged'), { mode: 0o755 });
      writeFileSync(join(directory, 'snapshot.json'), `${JSON.stringify(record, null, 2)}\n`);
      return this.describe(record, options.target);
    } catch (error) {
      await fs.rm(directory, { recursive: true, force: true });
      throw error;
    }
  }

  /** The mount for an existing snapshot (e.g. when a container restarts). */
  async mountFor(key: string, target?: string): Promise<ContainerRootfs> {
    return this.describe(await this.get(key), target);
  }

  private async describe(record: SnapshotRecord, target?: string): Promise<ContainerRootfs> {
    const directory = this.directory(record.key);
    let lowers = [...record.chainIds].reverse().map((chainId) => this.images.layers.diffDirectory(chainId));
    if (lowers.length === 0) {
      // overlayfs needs at least one lower dir; an empty one stands for `scratch`.
      const empty = join(directory, 'empty');
      await fs.mkdir(empty, { recursive: true, mode: 0o755 });
      lowers = [empty];
    }
    const upperDir = join(directory, 'upper');
    const workDir = join(directory, 'work');
    let options = [`lowerdir=${lowers.join(':')}`, `upperdir=${upperDir}`, `workdir=${workDir}`];
    if (options.join(',').length > MAX_MOUNT_DATA && record.chainIds.length > 0) {
      const short = await Promise.all(
        [...record.chainIds].reverse().map((chainId) => this.images.layers.shortLink(chainId)),
      );
      options = [`lowerdir=${short.join(':')}`, `upperdir=${upperDir}`, `workdir=${workDir}`];
    }
    const length = options.join(',').length;
    if (length > MAX_MOUNT_DATA) {
      throw new SnapshotError(
        `the image has ${lowers.length} layers and their overlay options take ${length} bytes, more than the kernel's ${MAX_MOUNT_DATA}; use a shorter state dir path or squash the image`,
      );
    }
    return {
      key: record.key,
      mount: { type: 'overlay', source: 'overlay', target: target ?? join(directory, 'merged'), options },
      upperDir,
      workDir,
      lowerDirs: lowers,
      ...(record.imageId === undefined ? {} : { imageId: record.imageId }),
    };
  }

  async get(key: string): Promise<SnapshotRecord> {
    try {
      return JSON.parse(
        await fs.readFile(join(this.directory(key), 'snapshot.json'), 'utf8'),
      ) as SnapshotRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new SnapshotError(`no snapshot ${key}`);
      throw error;
    }
  }

  async list(): Promise<SnapshotRecord[]> {
    let keys: string[];
    try {
      keys = await fs.readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records: SnapshotRecord[] = [];
    for (const key of keys.filter((name) => KEY.test(name))) {
      try {
        records.push(await this.get(key));
      } catch {
        // half-made or half-removed snapshot; remove() or GC will finish it
      }
    }
    return records;
  }

  /** Deletes the container's changes. The caller must have unmounted it. */
  async remove(key: string): Promise<void> {
    await fs.rm(this.directory(key), { recursive: true, force: true });
  }

  /** Writes the container's changes as a new layer on top of its image and registers the new image. */
  async commit(options: CommitOptions): Promise<StoredImage> {
    return this.images.withLease(() => this.commitUnderLease(options));
  }

  private async commitUnderLease(options: CommitOptions): Promise<StoredImage> {
    const record = await this.get(options.key);
    const base =
      record.manifestDigest === undefined ? undefined : await this.images.readImage(record.manifestDigest);
    if (
      base !== undefined &&
      JSON.stringify(chainIds(base.config.rootfs.diff_ids)) !== JSON.stringify(record.chainIds)
    ) {
      throw new SnapshotError(`snapshot ${options.key} no longer matches its image ${record.imageId ?? ''}`);
    }
    const layer = await storeLayer(
      this.images,
      directoryLayerMembers(join(this.directory(options.key), 'upper'), {
        overlay: true,
        ...(options.userNamespace ? { owners: containerOwners(options.userNamespace) } : {}),
      }),
    );
    return writeImage(this.images, {
      ...(base === undefined ? {} : { base }),
      layer,
      ...(options.config === undefined ? {} : { config: options.config }),
      ...(options.author === undefined ? {} : { author: options.author }),
      history: {
        created_by: options.createdBy ?? 'flotilla container commit',
        ...(options.comment === undefined ? {} : { comment: options.comment }),
      },
      names: options.names ?? [],
      ...(options.intermediate === undefined ? {} : { intermediate: options.intermediate }),
    });
  }
}
