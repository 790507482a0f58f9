// Images for pod containers, by imagePullPolicy as kubelet applies it: Always pulls (a registry that
// answers with the same digest costs one manifest request), IfNotPresent pulls only when the node does
// not have the image, Never refuses what is not there. Names without a registry go to the node's
// default registry when it has one. Pulls of the same image by several pods share one download.
import type { Container } from '@flotilla/api';
import {
  formatReference,
  ImageNotFoundError,
  parseReference,
  type ImageStore,
  type RegistryClient,
  type StoredImage,
} from '@flotilla/runtime';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** Why an image is not there: ErrImagePull, ErrImageNeverPull or InvalidImageName, as kubelet reports. */
export class ImagePullError extends Error {
  override readonly name = 'ImagePullError';
  constructor(
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName',
    message: string,
  ) {
    super(message);
  }
}

export interface PulledImage {
  /** What the runtime resolves: the image's ID in the store. */
  id: string;
  /** The image as the pod names it, fully qualified ("docker.io/library/busybox:latest"). */
  image: string;
  /** Repository and manifest digest, as kubelet reports imageID. */
  imageID: string;
}

export interface ImagePullerOptions {
  store: ImageStore;
  registry: RegistryClient;
  /** Where names without a registry are pulled from (e.g. "127.0.0.1:5000"); absent: Docker Hub. */
  defaultRegistry?: string;
}

/** Kubernetes' default: Always for :latest or no tag, else IfNotPresent. */
export function pullPolicyOf(container: Container): PullPolicy {
  if (container.imagePullPolicy) return container.imagePullPolicy;
  const image = container.image ?? '';
  const reference = (() => {
    try {
      return parseReference(image);
    } catch {
      return undefined;
    }
  })();
  if (reference?.digest !== undefined) return 'IfNotPresent';
  return reference?.tag === undefined || reference.tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function hasExplicitRegistry(text: string): boolean {
  const first = text.split('/')[0] ?? '';
  return text.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
}

export class ImagePuller {
  private readonly inFlight = new Map<string, Promise<StoredImage>>();

  constructor(private readonly options: ImagePullerOptions) {}

  /** Names to look for locally, and the one to pull from. */
  private names(image: string): { local: string[]; remote: string } {
    let canonical: string;
    try {
      canonical = formatReference(parseReference(image));
    } catch (error) {
      throw new ImagePullError(
        'InvalidImageName',
        `Failed to apply default image tag "${image}": ${(error as Error).message}`,
      );
    }
    if (this.options.defaultRegistry === undefined || hasExplicitRegistry(image)) {
      return { local: [canonical], remote: canonical };
    }
    const reference = parseReference(image);
    const path =
      reference.repository.startsWith('library/') && !image.startsWith('library/')
        ? reference.repository.slice('library/'.length)
        : reference.repository;
    const remote = formatReference({
      ...reference,
      registry: this.options.defaultRegistry,
      repository: path,
    });
    return { local: [canonical, remote], remote };
  }

  private async findLocal(
    names: readonly string[],
  ): Promise<{ stored: StoredImage; name: string } | undefined> {
    for (const name of names) {
      try {
        return { stored: await this.options.store.resolve(name), name };
      } catch (error) {
        if (!(error instanceof ImageNotFoundError)) throw error;
      }
    }
    return undefined;
  }

  private pull(remote: string): Promise<StoredImage> {
    let pending = this.inFlight.get(remote);
    if (!pending) {
      pending = this.options.registry
        .pull(this.options.store, remote)
        .finally(() => this.inFlight.delete(remote));
      this.inFlight.set(remote, pending);
    }
    return pending;
  }

  async ensure(container: Container): Promise<PulledImage> {
    const image = container.image;
    if (!image) throw new ImagePullError('InvalidImageName', `container ${container.name} names no image`);
    const policy = pullPolicyOf(container);
    const names = this.names(image);
    let found = policy === 'Always' ? undefined : await this.findLocal(names.local);
    if (!found) {
      if (policy === 'Never') {
        throw new ImagePullError(
          'ErrImageNeverPull',
          `Container image "${image}" is not present with pull policy of Never`,
        );
      }
      try {
        found = { stored: await this.pull(names.remote), name: names.remote };
      } catch (error) {
        throw new ImagePullError(
          'ErrImagePull',
          `failed to pull image "${names.remote}": ${(error as Error).message}`,
        );
      }
    }
    const reference = parseReference(found.name);
    return {
      id: found.stored.id,
      image: names.local[0] ?? names.remote,
      imageID: `${formatReference({ registry: reference.registry, repository: reference.repository })}@${found.stored.manifestDigest}`,
    };
  }
}
