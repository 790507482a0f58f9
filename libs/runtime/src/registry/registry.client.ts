// An OCI distribution client: pull and push by tag or digest, with the Docker token flow and Basic auth,
// blobs streamed straight into (or out of) the blob store with their digest and size checked on the way,
// monolithic or chunked uploads, and progress events for the CLI.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BlobError } from '../images/blob.store';
import {
  familiarReference,
  formatReference,
  parseReference,
  type ImageReference,
} from '../images/image-reference';
import type { ImageStore, StoredImage } from '../images/image.store';
import {
  asIndex,
  asManifest,
  ImageFormatError,
  isIndexMediaType,
  MEDIA_TYPES,
  parseJson,
  selectPlatform,
  type Descriptor,
  type Platform,
} from '../images/oci.types';
import {
  basicHeader,
  fetchToken,
  parseChallenges,
  RegistryAuthError,
  type CredentialSource,
} from './registry-auth';

export type RegistryProgress =
  | { readonly kind: 'resolved'; readonly reference: string; readonly digest: string }
  | { readonly kind: 'blob-start'; readonly digest: string; readonly size: number }
  | { readonly kind: 'blob-progress'; readonly digest: string; readonly bytes: number; readonly size: number }
  | { readonly kind: 'blob-done'; readonly digest: string; readonly size: number; readonly skipped: boolean }
  | {
      readonly kind: 'blob-retry';
      readonly digest: string;
      readonly attempt: number;
      readonly reason: string;
    }
  | { readonly kind: 'manifest'; readonly reference: string; readonly digest: string };

export interface RegistryClientOptions {
  readonly credentials?: CredentialSource;
  /** Registries spoken to over plain HTTP; loopback hosts always are (as Docker treats them). */
  readonly insecureRegistries?: readonly string[];
  /** Blobs larger than this are uploaded in PATCH chunks of this size; smaller ones in one PUT. */
  readonly chunkSize?: number;
  /** Parallel blob transfers. */
  readonly concurrency?: number;
  readonly platform?: Platform;
}

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    message: string,
    readonly status?: number,
    /** The registry could not be reached: trying again may work. */
    readonly unreachable = false,
  ) {
    super(message);
  }
}

const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.dockerManifest,
].join(', ');
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DEFAULT_CHUNK = 32 * 1024 * 1024;
const DOWNLOAD_ATTEMPTS = 3;
const RETRY_DELAY_MS = 200;

/** Network failures and the registry's own trouble (5xx, 429) may pass; wrong content and refusals do not. */
function isTransient(error: unknown): boolean {
  if (error instanceof RegistryError)
    return error.unreachable || (error.status !== undefined && (error.status >= 500 || error.status === 429));
  return !(
    error instanceof RegistryAuthError ||
    error instanceof BlobError ||
    error instanceof ImageFormatError
  );
}

interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | Readable;
  readonly scope: string;
  /** Redirects are followed for blob downloads only (to storage back-ends). */
  readonly redirect?: 'follow' | 'manual' | 'error';
}

/** One repository on one registry, with its auth state. */
class RepositorySession {
  private authorization: string | undefined;

  constructor(
    readonly reference: ImageReference,
    private readonly baseUrl: string,
    private readonly credentials: CredentialSource | undefined,
  ) {}

  url(path: string): string {
    return `${this.baseUrl}/v2/${this.reference.repository}${path}`;
  }

  async request(url: string, options: RequestOptions): Promise<Response> {
    const attempt = async (): Promise<Response> => {
      const headers: Record<string, string> = { ...options.headers };
      if (this.authorization !== undefined) headers['authorization'] = this.authorization;
      const body = options.body;
      try {
        return await fetch(url, {
          method: options.method ?? 'GET',
          headers,
          redirect: options.redirect ?? 'follow',
          ...(body === undefined
            ? {}
            : Buffer.isBuffer(body)
              ? { body }
              : {
                  body: Readable.toWeb(body) as unknown as NonNullable<RequestInit['body']>,
                  duplex: 'half',
                }),
        } as RequestInit);
      } catch (error) {
        const cause = (error as { cause?: { message?: string } }).cause?.message;
        throw new RegistryError(
          `cannot reach ${this.reference.registry} (${url}): ${cause ?? (error as Error).message}`,
          undefined,
          true,
        );
      }
    };
    let response = await attempt();
    // A streamed body cannot be sent twice; the upload's HEAD and POST come first and authenticate.
    if (response.status === 401 && (options.body === undefined || Buffer.isBuffer(options.body))) {
      await response.arrayBuffer().catch(() => undefined);
      await this.authenticate(response, options.scope);
      response = await attempt();
    }
    if (response.status === 401) {
      await response.arrayBuffer().catch(() => undefined);
      throw new RegistryAuthError(
        `${this.reference.registry} refused access to ${this.reference.repository} (${options.scope})`,
      );
    }
    return response;
  }

  private async authenticate(response: Response, scope: string): Promise<void> {
    const challenges = parseChallenges(response.headers.get('www-authenticate') ?? '');
    const credentials = this.credentials?.(this.reference.registry);
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    if (bearer !== undefined) {
      const token = await fetchToken({
        challenge: bearer,
        scope,
        credentials,
        registry: this.reference.registry,
      });
      this.authorization = `Bearer ${token}`;
      return;
    }
    if (challenges.some((challenge) => challenge.scheme === 'basic')) {
      if (credentials === undefined) {
        throw new RegistryAuthError(
          `${this.reference.registry} requires a login; pass --username/--password (or log in with docker login)`,
        );
      }
      this.authorization = basicHeader(credentials);
      return;
    }
    throw new RegistryAuthError(
      `${this.reference.registry} answered 401 without a usable WWW-Authenticate challenge`,
    );
  }
}

export interface PullOptions {
  readonly onProgress?: (event: RegistryProgress) => void;
}

export interface PushOptions {
  /** Where to push; defaults to the image's own name. */
  readonly target?: string;
  readonly onProgress?: (event: RegistryProgress) => void;
}

export class RegistryClient {
  private readonly chunkSize: number;
  private readonly concurrency: number;

  constructor(private readonly options: RegistryClientOptions = {}) {
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
    this.concurrency = Math.max(1, options.concurrency ?? 3);
  }

  private session(reference: ImageReference): RepositorySession {
    const registry = reference.registry;
    const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    const insecure =
      ['localhost', '127.0.0.1', '::1'].includes(host) ||
      host.startsWith('127.') ||
      (this.options.insecureRegistries ?? []).includes(registry);
    const endpoint = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    return new RepositorySession(
      reference,
      `${insecure ? 'http' : 'https'}://${endpoint}`,
      this.options.credentials,
    );
  }

  /** Pulls an image by tag or digest into the store (layers unpacked) and names it as referenced. */
  async pull(store: ImageStore, text: string, options: PullOptions = {}): Promise<StoredImage> {
    return store.withLease(() => this.pullUnderLease(store, text, options));
  }

  private async pullUnderLease(store: ImageStore, text: string, options: PullOptions): Promise<StoredImage> {
    const reference = parseReference(text);
    const session = this.session(reference);
    const scope = `repository:${reference.repository}:pull`;
    const top = await this.fetchManifest(
      session,
      reference.digest ?? reference.tag ?? 'latest',
      scope,
      reference.digest,
    );
    let manifestBytes = top.bytes;
    let manifestDigest = top.digest;
    if (isIndexMediaType(top.mediaType)) {
      const chosen = selectPlatform(
        asIndex(parseJson(top.bytes, `index of ${text}`), `index of ${text}`),
        this.options.platform,
      );
      const platformManifest = await this.fetchManifest(session, chosen.digest, scope, chosen.digest);
      manifestBytes = platformManifest.bytes;
      manifestDigest = platformManifest.digest;
    }
    options.onProgress?.({
      kind: 'resolved',
      reference: familiarReference(reference),
      digest: manifestDigest,
    });
    const manifest = asManifest(parseJson(manifestBytes, `manifest of ${text}`), `manifest of ${text}`);
    for (const layer of manifest.layers) {
      if (layer.mediaType.includes('nondistributable') || layer.mediaType.includes('foreign')) {
        throw new ImageFormatError(
          `${text} has a non-distributable layer (${layer.mediaType}), which Flotilla does not fetch`,
        );
      }
    }
    await runLimited([manifest.config, ...manifest.layers], this.concurrency, (descriptor) =>
      this.download(store, session, descriptor, scope, options),
    );
    await store.blobs.put(manifestBytes, { expectedDigest: manifestDigest });
    const image = await store.addImage(manifestDigest, [formatReference(reference)]);
    await store.unpack(image);
    return image;
  }

  private async fetchManifest(
    session: RepositorySession,
    tagOrDigest: string,
    scope: string,
    expectedDigest: string | undefined,
  ): Promise<{ bytes: Buffer; digest: string; mediaType: string | undefined }> {
    const response = await session.request(session.url(`/manifests/${tagOrDigest}`), {
      headers: { accept: MANIFEST_ACCEPT },
      scope,
    });
    if (response.status === 404) {
      await response.arrayBuffer().catch(() => undefined);
      throw new RegistryError(
        `${familiarReference(session.reference)} was not found on ${session.reference.registry} (no manifest ${tagOrDigest})`,
        404,
      );
    }
    await expectOk(response, `fetching manifest ${tagOrDigest}`);
    const bytes = await readCapped(response, MAX_MANIFEST_BYTES, 'manifest');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (expectedDigest !== undefined && digest !== expectedDigest) {
      throw new RegistryError(
        `manifest ${expectedDigest} from ${session.reference.registry} hashes to ${digest}: the registry served wrong content`,
      );
    }
    const announced = response.headers.get('docker-content-digest');
    if (announced !== null && announced.startsWith('sha256:') && announced !== digest) {
      throw new RegistryError(
        `manifest ${tagOrDigest} from ${session.reference.registry} hashes to ${digest}, but the registry announced ${announced}`,
      );
    }
    const declared = (parseJson(bytes, 'manifest') as { mediaType?: unknown }).mediaType;
    const headerType = response.headers.get('content-type')?.split(';')[0]?.trim();
    return { bytes, digest, mediaType: typeof declared === 'string' ? declared : headerType };
  }

  private async download(
    store: ImageStore,
    session: RepositorySession,
    descriptor: Descriptor,
    scope: string,
    options: PullOptions,
  ): Promise<void> {
    const progress = options.onProgress;
    if (await store.blobs.has(descriptor.digest)) {
      progress?.({ kind: 'blob-done', digest: descriptor.digest, size: descriptor.size, skipped: true });
      return;
    }
    progress?.({ kind: 'blob-start', digest: descriptor.digest, size: descriptor.size });
    // A dropped connection or a registry hiccup (5xx, 429) costs a retry, not the pull; content that
    // arrives complete but wrong is never retried.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.downloadOnce(store, session, descriptor, scope, options);
        break;
      } catch (error) {
        if (attempt >= DOWNLOAD_ATTEMPTS || !isTransient(error)) throw error;
        progress?.({
          kind: 'blob-retry',
          digest: descriptor.digest,
          attempt: attempt + 1,
          reason: (error as Error).message,
        });
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * 2 ** (attempt - 1)));
      }
    }
    progress?.({ kind: 'blob-done', digest: descriptor.digest, size: descriptor.size, skipped: false });
  }

  private async downloadOnce(
    store: ImageStore,
    session: RepositorySession,
    descriptor: Descriptor,
    scope: string,
    options: PullOptions,
  ): Promise<void> {
    const response = await session.request(session.url(`/blobs/${descriptor.digest}`), { scope });
    await expectOk(response, `fetching blob ${descriptor.digest}`);
    if (response.body === null) throw new RegistryError(`blob ${descriptor.digest} came with no body`);
    const body = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
    try {
      await store.blobs.put(body, {
        expectedDigest: descriptor.digest,
        expectedSize: descriptor.size,
        onProgress: (bytes) =>
          options.onProgress?.({
            kind: 'blob-progress',
            digest: descriptor.digest,
            bytes,
            size: descriptor.size,
          }),
      });
    } catch (error) {
      body.destroy();
      if (error instanceof BlobError)
        throw new RegistryError(`${error.message} (from ${session.reference.registry})`);
      throw error;
    }
  }

  /** Pushes a local image (blobs the registry lacks, then the manifest) and answers the manifest digest. */
  async push(store: ImageStore, source: string, options: PushOptions = {}): Promise<string> {
    const image = await store.resolve(source);
    const targetText = options.target ?? source;
    const reference = parseReference(targetText);
    // Pushing by digest stores the manifest untagged; the digest must be the image's own.
    if (reference.digest !== undefined && reference.digest !== image.manifestDigest) {
      throw new RegistryError(
        `${targetText} names digest ${reference.digest}, but ${source} is ${image.manifestDigest}; push by tag, or by the image's own digest`,
      );
    }
    const session = this.session(reference);
    const scope = `repository:${reference.repository}:pull,push`;
    await runLimited([...image.manifest.layers, image.manifest.config], this.concurrency, (descriptor) =>
      this.upload(store, session, descriptor, scope, options),
    );
    const manifestBytes = await store.blobs.read(image.manifestDigest);
    const tag = reference.digest ?? reference.tag ?? 'latest';
    const response = await session.request(session.url(`/manifests/${tag}`), {
      method: 'PUT',
      headers: { 'content-type': image.manifest.mediaType ?? MEDIA_TYPES.ociManifest },
      body: manifestBytes,
      scope,
    });
    await expectOk(response, `pushing the manifest for ${tag}`);
    await response.arrayBuffer().catch(() => undefined);
    const announced = response.headers.get('docker-content-digest');
    if (announced !== null && announced !== image.manifestDigest) {
      throw new RegistryError(
        `the registry stored the manifest as ${announced}, expected ${image.manifestDigest}`,
      );
    }
    options.onProgress?.({
      kind: 'manifest',
      reference: familiarReference(reference),
      digest: image.manifestDigest,
    });
    return image.manifestDigest;
  }

  private async upload(
    store: ImageStore,
    session: RepositorySession,
    descriptor: Descriptor,
    scope: string,
    options: PushOptions,
  ): Promise<void> {
    const progress = options.onProgress;
    const head = await session.request(session.url(`/blobs/${descriptor.digest}`), { method: 'HEAD', scope });
    await head.arrayBuffer().catch(() => undefined);
    if (head.status === 200) {
      progress?.({ kind: 'blob-done', digest: descriptor.digest, size: descriptor.size, skipped: true });
      return;
    }
    progress?.({ kind: 'blob-start', digest: descriptor.digest, size: descriptor.size });
    const start = await session.request(session.url('/blobs/uploads/'), { method: 'POST', scope });
    await expectStatus(start, 202, `starting the upload of ${descriptor.digest}`);
    let location = nextLocation(start, session);
    const size = await store.blobs.size(descriptor.digest);
    if (size !== descriptor.size)
      throw new RegistryError(
        `local blob ${descriptor.digest} is ${size} bytes, but the manifest says ${descriptor.size}; the image store is damaged`,
      );

    if (size <= this.chunkSize) {
      const finish = await session.request(withDigest(location, descriptor.digest), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: store.blobs.open(descriptor.digest),
        scope,
      });
      await expectStatus(finish, 201, `uploading ${descriptor.digest}`);
      progress?.({ kind: 'blob-progress', digest: descriptor.digest, bytes: size, size });
    } else {
      let offset = 0;
      for await (const chunk of chunked(store.blobs.open(descriptor.digest), this.chunkSize)) {
        const patch = await session.request(location, {
          method: 'PATCH',
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(chunk.length),
            'content-range': `${offset}-${offset + chunk.length - 1}`,
          },
          body: chunk,
          scope,
        });
        await expectStatus(patch, 202, `uploading bytes ${offset}+ of ${descriptor.digest}`);
        location = nextLocation(patch, session);
        offset += chunk.length;
        progress?.({ kind: 'blob-progress', digest: descriptor.digest, bytes: offset, size });
      }
      const finish = await session.request(withDigest(location, descriptor.digest), {
        method: 'PUT',
        headers: { 'content-length': '0' },
        body: Buffer.alloc(0),
        scope,
      });
      await expectStatus(finish, 201, `finishing the upload of ${descriptor.digest}`);
    }
    progress?.({ kind: 'blob-done', digest: descriptor.digest, size, skipped: false });
  }
}

function nextLocation(response: Response, session: RepositorySession): string {
  const location = response.headers.get('location');
  if (location === null)
    throw new RegistryError(`${session.reference.registry} started an upload without a Location header`);
  return new URL(location, session.url('/')).toString();
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

async function expectOk(response: Response, what: string): Promise<void> {
  if (response.ok) return;
  throw new RegistryError(`${what} failed: ${response.status} ${await errorText(response)}`, response.status);
}

async function expectStatus(response: Response, status: number, what: string): Promise<void> {
  if (response.status === status) {
    await response.arrayBuffer().catch(() => undefined);
    return;
  }
  throw new RegistryError(`${what} failed: ${response.status} ${await errorText(response)}`, response.status);
}

/** The registry's error body ({"errors":[{"code","message"}]}) in one line. */
async function errorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    if (Array.isArray(body.errors) && body.errors.length > 0)
      return body.errors.map((error) => `${error.code ?? ''}: ${error.message ?? ''}`).join('; ');
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}

async function readCapped(response: Response, limit: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > limit)
    throw new RegistryError(`the ${what} is ${declared} bytes, more than the ${limit}-byte limit`);
  if (response.body === null) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>)) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new RegistryError(`the ${what} is larger than the ${limit}-byte limit`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

async function* chunked(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const piece of source) {
    pending.push(Buffer.from(piece));
    length += piece.length;
    while (length >= size) {
      const all = Buffer.concat(pending);
      yield all.subarray(0, size);
      pending = [all.subarray(size)];
      length -= size;
    }
  }
  if (length > 0) yield Buffer.concat(pending);
}

async function runLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(workers);
}
