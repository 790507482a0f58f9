// Loading `docker save` archives (the legacy layout: manifest.json + <id>/layer.tar, and Docker 25+'s
// OCI layout with manifest.json beside it) and OCI archives, and saving images as OCI archives that
// Docker can load too. Archives are indexed once and then read by offset, so blobs are copied straight
// from the archive into the blob store with their digests checked on the way.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { posix, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { readTar } from '../layers/tar-reader';
import { writeTar, type MemberToWrite } from '../layers/tar-writer';
import { digestHex, isDigest } from '../layers/chain-id';
import { familiarReference, formatReference, parseReference } from './image-reference';
import type { ImageStore, StoredImage } from './image.store';
import {
  asImageConfig,
  asIndex,
  asManifest,
  IMAGE_NAME_ANNOTATION,
  ImageFormatError,
  isIndexMediaType,
  MEDIA_TYPES,
  parseJson,
  REF_NAME_ANNOTATION,
  selectPlatform,
  type Descriptor,
  type ImageManifest,
} from './oci.types';

interface ArchiveMember {
  readonly offset: number;
  readonly size: number;
  readonly type: string;
  readonly linkName: string;
}

/** Random access to the regular files of an uncompressed tar file. */
class IndexedArchive {
  private constructor(
    private readonly file: string,
    private readonly members: ReadonlyMap<string, ArchiveMember>,
  ) {}

  static async open(file: string): Promise<IndexedArchive> {
    const members = new Map<string, ArchiveMember>();
    for await (const member of readTar(createReadStream(file))) {
      const name = posix.normalize(member.entry.name.replace(/^\/+/, '')).replace(/\/$/, '');
      members.set(name, {
        offset: member.offset,
        size: member.entry.size,
        type: member.entry.type,
        linkName: member.entry.linkName,
      });
    }
    return new IndexedArchive(file, members);
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  /** Follows in-archive symlinks (legacy docker save links duplicate layers) without leaving the archive. */
  private locate(name: string): ArchiveMember {
    let current = posix.normalize(name);
    for (let hops = 0; hops < 16; hops++) {
      const member = this.members.get(current);
      if (member === undefined)
        throw new ImageFormatError(
          `the archive has no ${name}; it is not a complete docker save or OCI archive`,
        );
      if (member.type === 'file') return member;
      if (member.type !== 'symlink' && member.type !== 'hardlink')
        throw new ImageFormatError(`${name} in the archive is a ${member.type}, not a file`);
      const target =
        member.type === 'symlink' ? posix.join(posix.dirname(current), member.linkName) : member.linkName;
      current = posix.normalize(target.replace(/^\/+/, ''));
      if (current.startsWith('../'))
        throw new ImageFormatError(`${name} in the archive links outside the archive`);
    }
    throw new ImageFormatError(`${name} in the archive is a symlink loop`);
  }

  size(name: string): number {
    return this.locate(name).size;
  }

  open(name: string): Readable {
    const member = this.locate(name);
    if (member.size === 0) return Readable.from([]);
    return createReadStream(this.file, { start: member.offset, end: member.offset + member.size - 1 });
  }

  async read(name: string, limit = 16 * 1024 * 1024): Promise<Buffer> {
    if (this.size(name) > limit)
      throw new ImageFormatError(
        `${name} in the archive is larger than ${limit} bytes; it is not an image manifest`,
      );
    const parts: Buffer[] = [];
    for await (const chunk of this.open(name)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }
}

export interface LoadedImage {
  readonly id: string;
  readonly manifestDigest: string;
  readonly names: readonly string[];
}

export interface LoadOptions {
  /** Called once per image as it is stored. */
  readonly onImage?: (image: LoadedImage) => void;
}

/** Loads every image of a docker-save or OCI archive (optionally gzip-compressed). */
export async function loadImageArchive(
  store: ImageStore,
  archivePath: string,
  options: LoadOptions = {},
): Promise<LoadedImage[]> {
  return store.withLease(() => loadUnderLease(store, archivePath, options));
}

async function loadUnderLease(
  store: ImageStore,
  archivePath: string,
  options: LoadOptions,
): Promise<LoadedImage[]> {
  await fs.mkdir(store.layout.tmp, { recursive: true });
  let tarPath = archivePath;
  let scratch: string | undefined;
  if (await isGzip(archivePath)) {
    scratch = join(store.layout.tmp, `load-${randomBytes(6).toString('hex')}.tar`);
    await pipeline(createReadStream(archivePath), createGunzip(), createWriteStream(scratch));
    tarPath = scratch;
  }
  try {
    const archive = await IndexedArchive.open(tarPath);
    const loaded =
      archive.has('index.json') && archive.has('oci-layout')
        ? await loadOci(store, archive)
        : await loadLegacy(store, archive);
    for (const image of loaded) options.onImage?.(image);
    // Unpacking now makes the first container start quick and surfaces a hostile layer at load time.
    for (const image of loaded) await store.unpack(await store.readImage(image.manifestDigest));
    return loaded;
  } finally {
    if (scratch !== undefined) await fs.rm(scratch, { force: true });
  }
}

async function isGzip(path: string): Promise<boolean> {
  const handle = await fs.open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    await handle.read(head, 0, 2, 0);
    return head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

function blobPath(digest: string): string {
  return `blobs/sha256/${digestHex(digest)}`;
}

async function copyBlob(store: ImageStore, archive: IndexedArchive, descriptor: Descriptor): Promise<void> {
  await store.blobs.put(archive.open(blobPath(descriptor.digest)), {
    expectedDigest: descriptor.digest,
    expectedSize: descriptor.size,
  });
}

async function loadOci(store: ImageStore, archive: IndexedArchive): Promise<LoadedImage[]> {
  const index = asIndex(
    parseJson(await archive.read('index.json'), 'index.json in the archive'),
    'index.json in the archive',
  );
  const legacyTags = await legacyRepoTags(archive);
  const loaded: LoadedImage[] = [];
  for (const top of index.manifests) {
    let descriptor = top;
    if (isIndexMediaType(descriptor.mediaType)) {
      const nested = asIndex(
        parseJson(await archive.read(blobPath(descriptor.digest)), `index ${descriptor.digest}`),
      );
      descriptor = selectPlatform(nested);
    }
    const manifestBytes = await archive.read(blobPath(descriptor.digest));
    verifyDigest(manifestBytes, descriptor.digest, 'manifest');
    const manifest = asManifest(parseJson(manifestBytes, `manifest ${descriptor.digest}`));
    for (const blob of [manifest.config, ...manifest.layers]) await copyBlob(store, archive, blob);
    await store.blobs.put(manifestBytes, { expectedDigest: descriptor.digest });
    const names = new Set<string>();
    const fullName = top.annotations?.[IMAGE_NAME_ANNOTATION];
    const refName = top.annotations?.[REF_NAME_ANNOTATION];
    if (fullName !== undefined) names.add(fullName);
    // ref.name is only a tag in OCI archives from Docker; some tools put a whole reference there.
    else if (refName !== undefined && /[/:]/.test(refName)) names.add(refName);
    for (const tag of legacyTags.get(manifest.config.digest) ?? []) names.add(tag);
    const image = await store.addImage(descriptor.digest, [...names]);
    loaded.push({ id: image.id, manifestDigest: image.manifestDigest, names: familiarNames(image) });
  }
  return loaded;
}

async function legacyRepoTags(archive: IndexedArchive): Promise<Map<string, string[]>> {
  const tags = new Map<string, string[]>();
  if (!archive.has('manifest.json')) return tags;
  for (const item of await legacyManifest(archive)) {
    const configDigest = `sha256:${createHash('sha256')
      .update(await archive.read(item.config))
      .digest('hex')}`;
    tags.set(configDigest, item.repoTags);
  }
  return tags;
}

interface LegacyItem {
  readonly config: string;
  readonly repoTags: string[];
  readonly layers: string[];
}

async function legacyManifest(archive: IndexedArchive): Promise<LegacyItem[]> {
  const json = parseJson(await archive.read('manifest.json'), 'manifest.json in the archive');
  if (!Array.isArray(json)) throw new ImageFormatError('manifest.json in the archive must be a JSON array');
  return json.map((value: unknown, position) => {
    const item = value as { Config?: unknown; RepoTags?: unknown; Layers?: unknown };
    const where = `manifest.json[${position}]`;
    if (typeof item.Config !== 'string') throw new ImageFormatError(`${where}.Config must be a string`);
    const layers = item.Layers;
    if (!Array.isArray(layers) || !layers.every((layer): layer is string => typeof layer === 'string')) {
      throw new ImageFormatError(`${where}.Layers must be an array of paths`);
    }
    const repoTags = item.RepoTags ?? [];
    if (!Array.isArray(repoTags) || !repoTags.every((tag): tag is string => typeof tag === 'string')) {
      throw new ImageFormatError(`${where}.RepoTags must be an array of names`);
    }
    return { config: item.Config, repoTags, layers };
  });
}

async function loadLegacy(store: ImageStore, archive: IndexedArchive): Promise<LoadedImage[]> {
  if (!archive.has('manifest.json')) {
    throw new ImageFormatError(
      'the archive has neither manifest.json (docker save) nor index.json and oci-layout (OCI); it is not an image archive',
    );
  }
  const loaded: LoadedImage[] = [];
  for (const item of await legacyManifest(archive)) {
    const configBytes = await archive.read(item.config);
    const config = asImageConfig(parseJson(configBytes, item.config), item.config);
    if (config.rootfs.diff_ids.length !== item.layers.length) {
      throw new ImageFormatError(
        `${item.config} lists ${config.rootfs.diff_ids.length} layers but manifest.json has ${item.layers.length}`,
      );
    }
    const configBlob = await store.blobs.put(configBytes);
    const layers: Descriptor[] = [];
    for (const [position, layerPath] of item.layers.entries()) {
      const gzip = await startsWithGzip(archive.open(layerPath));
      const expectedDiffId = config.rootfs.diff_ids[position] as string;
      const blob = await store.blobs.put(
        archive.open(layerPath),
        gzip ? {} : { expectedDigest: expectedDiffId },
      );
      layers.push({
        mediaType: gzip ? MEDIA_TYPES.ociLayerGzip : MEDIA_TYPES.ociLayer,
        digest: blob.digest,
        size: blob.size,
      });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: configBlob.digest, size: configBlob.size },
      layers,
    };
    const manifestBlob = await store.blobs.put(Buffer.from(JSON.stringify(manifest)));
    const image = await store.addImage(manifestBlob.digest, item.repoTags);
    loaded.push({ id: image.id, manifestDigest: image.manifestDigest, names: familiarNames(image) });
  }
  return loaded;
}

async function startsWithGzip(stream: Readable): Promise<boolean> {
  for await (const chunk of stream) {
    stream.destroy();
    const head = chunk as Buffer;
    return head[0] === 0x1f && head[1] === 0x8b;
  }
  return false;
}

function verifyDigest(data: Buffer, digest: string, what: string): void {
  const actual = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  if (actual !== digest)
    throw new ImageFormatError(
      `${what} hashes to ${actual}, but the archive names it ${digest}: the archive is corrupt`,
    );
}

function familiarNames(image: StoredImage): string[] {
  return image.names.map((name) => familiarReference(parseReference(name)));
}

/**
 * Writes the images as an OCI archive (oci-layout, index.json, blobs) with a Docker manifest.json beside
 * it, so `docker load`, `podman load` and `flotilla image load` all read it. Each reference keeps the
 * name it was given; an ID saves the image with all its names.
 */
export async function saveImageArchive(
  store: ImageStore,
  references: readonly string[],
  output: NodeJS.WritableStream,
): Promise<void> {
  const images: Array<{ image: StoredImage; names: string[] }> = [];
  for (const reference of references) {
    const image = await store.resolve(reference);
    let names = [...image.names];
    try {
      const full = formatReference(parseReference(reference));
      if (image.names.includes(full)) names = [full];
    } catch {
      // an ID: keep every name
    }
    const existing = images.find((entry) => entry.image.manifestDigest === image.manifestDigest);
    if (existing !== undefined)
      existing.names.push(...names.filter((name) => !existing.names.includes(name)));
    else images.push({ image, names });
  }
  const indexEntries: Descriptor[] = [];
  const dockerManifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  const blobs = new Set<string>();
  for (const { image, names } of images) {
    const size = await store.blobs.size(image.manifestDigest);
    const mediaType = image.manifest.mediaType ?? MEDIA_TYPES.ociManifest;
    const entries = names.length === 0 ? [undefined] : names;
    for (const name of entries) {
      const tag = name === undefined ? undefined : parseReference(name).tag;
      indexEntries.push({
        mediaType,
        digest: image.manifestDigest,
        size,
        ...(name === undefined
          ? {}
          : {
              annotations: {
                [IMAGE_NAME_ANNOTATION]: name,
                ...(tag === undefined ? {} : { [REF_NAME_ANNOTATION]: tag }),
              },
            }),
      });
    }
    dockerManifest.push({
      Config: blobPath(image.manifest.config.digest),
      RepoTags: names
        .map((name) => familiarReference(parseReference(name)))
        .filter((name) => !name.includes('@')),
      Layers: image.manifest.layers.map((layer) => blobPath(layer.digest)),
    });
    for (const digest of [
      image.manifestDigest,
      image.manifest.config.digest,
      ...image.manifest.layers.map((layer) => layer.digest),
    ])
      blobs.add(digest);
  }
  const json = (value: unknown): Buffer => Buffer.from(`${JSON.stringify(value)}\n`);
  async function* members(): AsyncGenerator<MemberToWrite> {
    yield { entry: { name: 'oci-layout', type: 'file' }, body: json({ imageLayoutVersion: '1.0.0' }) };
    yield {
      entry: { name: 'index.json', type: 'file' },
      body: json({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: indexEntries }),
    };
    yield { entry: { name: 'manifest.json', type: 'file' }, body: json(dockerManifest) };
    yield { entry: { name: 'blobs/', type: 'directory' } };
    yield { entry: { name: 'blobs/sha256/', type: 'directory' } };
    for (const digest of blobs) {
      if (!isDigest(digest)) continue;
      yield {
        entry: { name: blobPath(digest), type: 'file', size: await store.blobs.size(digest) },
        body: store.blobs.open(digest),
      };
    }
  }
  await pipeline(Readable.from(writeTar(members())), output);
}
