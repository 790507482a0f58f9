// The OCI image shapes we read and write, and narrowing of untrusted JSON (archives, registries) into
// them: a manifest that lies about its shape is refused with the field that is wrong.
import { isDigest } from '../layers/chain-id';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** containerd and Docker 25+ keep the full name here; ref.name holds only the tag. */
export const IMAGE_NAME_ANNOTATION = 'io.containerd.image.name';

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
}

export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The runtime part of an image config (Docker's and OCI's spelling). */
export interface ContainerConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Volumes?: Readonly<Record<string, object>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  readonly Healthcheck?: HealthConfig;
}

/** Docker's HEALTHCHECK: durations in nanoseconds; an absent or 0 field means Docker's default. */
export interface HealthConfig {
  /** ["CMD", program, ...args], ["CMD-SHELL", command] or ["NONE"]. */
  readonly Test: readonly string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

export interface HistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

export interface ImageConfig {
  readonly created?: string;
  readonly author?: string;
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly config?: ContainerConfig;
  readonly rootfs: { readonly type: 'layers'; readonly diff_ids: readonly string[] };
  readonly history?: readonly HistoryEntry[];
}

export class ImageFormatError extends Error {
  override readonly name = 'ImageFormatError';
}

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ImageFormatError(`${what} must be a JSON object`);
  return value as Json;
}

function string(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new ImageFormatError(`${what} must be a string`);
  return value;
}

export function parseJson(data: Buffer | string, what: string): unknown {
  try {
    return JSON.parse(data.toString());
  } catch (error) {
    throw new ImageFormatError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

export function asDescriptor(value: unknown, what: string): Descriptor {
  const json = object(value, what);
  const digest = string(json['digest'], `${what}.digest`);
  if (!isDigest(digest))
    throw new ImageFormatError(
      `${what}.digest ${JSON.stringify(digest)} is not a sha256 digest (other algorithms are not supported)`,
    );
  const size = json['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw new ImageFormatError(`${what}.size must be a non-negative integer`);
  const result: Descriptor = { mediaType: string(json['mediaType'], `${what}.mediaType`), digest, size };
  const annotations = json['annotations'];
  const platform = json['platform'];
  return {
    ...result,
    ...(annotations === undefined ? {} : { annotations: stringRecord(annotations, `${what}.annotations`) }),
    ...(platform === undefined ? {} : { platform: asPlatform(platform, `${what}.platform`) }),
  };
}

function asPlatform(value: unknown, what: string): Platform {
  const json = object(value, what);
  const variant = json['variant'];
  return {
    architecture: string(json['architecture'], `${what}.architecture`),
    os: string(json['os'], `${what}.os`),
    ...(typeof variant === 'string' ? { variant } : {}),
  };
}

function stringRecord(value: unknown, what: string): Record<string, string> {
  const json = object(value, what);
  for (const [key, entry] of Object.entries(json)) string(entry, `${what}.${key}`);
  return json as Record<string, string>;
}

export function asIndex(value: unknown, what = 'image index'): ImageIndex {
  const json = object(value, what);
  if (json['schemaVersion'] !== 2) throw new ImageFormatError(`${what}.schemaVersion must be 2`);
  const manifests = json['manifests'];
  if (!Array.isArray(manifests)) throw new ImageFormatError(`${what}.manifests must be an array`);
  const annotations = json['annotations'];
  return {
    schemaVersion: 2,
    ...(typeof json['mediaType'] === 'string' ? { mediaType: json['mediaType'] } : {}),
    manifests: manifests.map((entry, index) => asDescriptor(entry, `${what}.manifests[${index}]`)),
    ...(annotations === undefined ? {} : { annotations: stringRecord(annotations, `${what}.annotations`) }),
  };
}

export function asManifest(value: unknown, what = 'image manifest'): ImageManifest {
  const json = object(value, what);
  if (json['schemaVersion'] !== 2)
    throw new ImageFormatError(`${what}.schemaVersion must be 2 (schema 1 manifests are not supported)`);
  const layers = json['layers'];
  if (!Array.isArray(layers)) throw new ImageFormatError(`${what}.layers must be an array`);
  const annotations = json['annotations'];
  return {
    schemaVersion: 2,
    ...(typeof json['mediaType'] === 'string' ? { mediaType: json['mediaType'] } : {}),
    config: asDescriptor(json['config'], `${what}.config`),
    layers: layers.map((entry, index) => asDescriptor(entry, `${what}.layers[${index}]`)),
    ...(annotations === undefined ? {} : { annotations: stringRecord(annotations, `${what}.annotations`) }),
  };
}

export function asImageConfig(value: unknown, what = 'image config'): ImageConfig {
  const json = object(value, what);
  const rootfs = object(json['rootfs'], `${what}.rootfs`);
  const diffIds = rootfs['diff_ids'];
  if (!Array.isArray(diffIds)) throw new ImageFormatError(`${what}.rootfs.diff_ids must be an array`);
  for (const [index, diffId] of diffIds.entries()) {
    if (typeof diffId !== 'string' || !isDigest(diffId))
      throw new ImageFormatError(`${what}.rootfs.diff_ids[${index}] is not a sha256 digest`);
  }
  string(json['architecture'], `${what}.architecture`);
  string(json['os'], `${what}.os`);
  if (json['config'] !== undefined && json['config'] !== null) object(json['config'], `${what}.config`);
  // The remaining fields are informational; they pass through as the image author wrote them.
  return json as unknown as ImageConfig;
}

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerManifestList;
}

export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociManifest || mediaType === MEDIA_TYPES.dockerManifest;
}

/** The host's platform in OCI terms. */
export function hostPlatform(): Platform {
  const architecture: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
  };
  return { os: 'linux', architecture: architecture[process.arch] ?? process.arch };
}

/** Picks this host's manifest from a multi-platform index. */
export function selectPlatform(index: ImageIndex, platform: Platform = hostPlatform()): Descriptor {
  const candidates = index.manifests.filter(
    (descriptor) =>
      isManifestMediaType(descriptor.mediaType) &&
      descriptor.platform?.os === platform.os &&
      descriptor.platform.architecture === platform.architecture &&
      // Attestation manifests (buildkit) are marked with unknown/unknown and never match a real platform.
      descriptor.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest',
  );
  const chosen =
    candidates.find((descriptor) => descriptor.platform?.variant === platform.variant) ?? candidates[0];
  if (chosen === undefined) {
    const offered = index.manifests
      .map((descriptor) =>
        descriptor.platform ? `${descriptor.platform.os}/${descriptor.platform.architecture}` : '?',
      )
      .join(', ');
    throw new ImageFormatError(
      `the image has no ${platform.os}/${platform.architecture} variant (it offers: ${offered || 'none'})`,
    );
  }
  return chosen;
}
