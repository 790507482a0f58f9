// The container engine's view of images: given an image reference, a container root (overlay data for
// the shim) plus the image's runtime defaults. Shaped to the containers area's RootfsProvider interface.
import { join } from 'node:path';
import { ImageNotFoundError, type ImageStore, type StoredImage } from '../images/image.store';
import { SnapshotStore, type OverlayMount } from './snapshot.store';

export interface ImageRootfs {
  readonly rootfs: OverlayMount & { readonly upperDir: string };
  readonly image: {
    readonly entrypoint?: string[];
    readonly cmd?: string[];
    readonly env?: string[];
    readonly workingDir?: string;
    readonly user?: string;
    readonly stopSignal?: string;
    readonly exposedPorts?: string[];
  };
  /** Layer directories, top first (for resolving user names in /etc/passwd without mounting). */
  readonly lowerDirs: string[];
}

export interface ImageRootfsProviderOptions {
  /** Fetches an image that is not in the store (e.g. a registry pull), as `docker run` does. */
  readonly pullMissing?: (reference: string) => Promise<StoredImage>;
}

export class ImageRootfsProvider {
  readonly snapshots: SnapshotStore;

  constructor(
    private readonly images: ImageStore,
    private readonly options: ImageRootfsProviderOptions = {},
  ) {
    this.snapshots = new SnapshotStore(images);
  }

  async prepare(request: { containerId: string; containerDir: string; image: string }): Promise<ImageRootfs> {
    const image = await this.images.resolve(request.image).catch(async (error: unknown) => {
      if (this.options.pullMissing === undefined || !(error instanceof ImageNotFoundError)) throw error;
      return this.options.pullMissing(request.image);
    });
    const prepared = await this.snapshots.prepare({
      key: request.containerId,
      image,
      target: join(request.containerDir, 'rootfs'),
    });
    const config = image.config.config ?? {};
    const entrypoint = config.Entrypoint ?? undefined;
    const cmd = config.Cmd ?? undefined;
    return {
      rootfs: { ...prepared.mount, options: [...prepared.mount.options], upperDir: prepared.upperDir },
      image: {
        ...(entrypoint === undefined ? {} : { entrypoint: [...entrypoint] }),
        ...(cmd === undefined ? {} : { cmd: [...cmd] }),
        ...(config.Env === undefined ? {} : { env: [...config.Env] }),
        ...(config.WorkingDir ? { workingDir: config.WorkingDir } : {}),
        ...(config.User ? { user: config.User } : {}),
        ...(config.StopSignal ? { stopSignal: config.StopSignal } : {}),
        ...(config.ExposedPorts ? { exposedPorts: Object.keys(config.ExposedPorts) } : {}),
      },
      lowerDirs: [...prepared.lowerDirs],
    };
  }

  async release(request: { containerId: string }): Promise<void> {
    await this.snapshots.remove(request.containerId);
  }
}
