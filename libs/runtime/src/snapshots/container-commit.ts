// `container commit`: a container's changes (its snapshot's upper dir) become a layer on top of its
// image, with optional Dockerfile-style config changes, registered under the names given.
import type { ContainerManager } from '../containers/container-manager';
import type { ImageStore, StoredImage } from '../images/image.store';
import { applyConfigChanges } from '../build/config-changes';
import { SnapshotError, SnapshotStore } from './snapshot.store';

export interface CommitContainerOptions {
  readonly containers: ContainerManager;
  readonly images: ImageStore;
  /** Container name or ID. */
  readonly container: string;
  readonly names?: readonly string[];
  readonly author?: string;
  readonly message?: string;
  /** Dockerfile instructions for the new config: "CMD [\"app\"]", "ENV MODE=prod", ... */
  readonly changes?: readonly string[];
}

export async function commitContainer(options: CommitContainerOptions): Promise<StoredImage> {
  const info = await options.containers.inspect(options.container);
  const snapshots = new SnapshotStore(options.images);
  const record = await snapshots.get(info.id).catch((error: unknown) => {
    if (error instanceof SnapshotError) {
      throw new SnapshotError(
        `container ${info.name} has no image snapshot (it runs from a plain directory); only containers made from images can be committed`,
      );
    }
    throw error;
  });
  const base =
    record.manifestDigest === undefined ? undefined : await options.images.readImage(record.manifestDigest);
  const config = applyConfigChanges(base?.config.config ?? {}, options.changes ?? []);
  return snapshots.commit({
    key: info.id,
    names: options.names ?? [],
    config,
    createdBy: `flotilla container commit ${info.name}`,
    ...(options.author === undefined ? {} : { author: options.author }),
    ...(options.message === undefined ? {} : { comment: options.message }),
    ...(info.userNamespace === undefined ? {} : { userNamespace: info.userNamespace }),
  });
}
