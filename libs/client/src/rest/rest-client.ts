// A typed client for Flotilla's (and Kubernetes') REST API over node:https, with keep-alive pools per
// client (rest-agents.ts) so controllers that issue many small requests reuse their TLS connections.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeList, KubeObject, ResourceType, Status, Subresource, WatchEvent } from '@flotilla/api';
import type { ConnectionConfig } from '../kubeconfig/kubeconfig.types';
import { watchResource, type ResourceWatchOptions, type WatchTransport } from '../watch/resource-watch';
import { ApiError } from './api-error';
import { createRestAgents, type RestAgents } from './rest-agents';
import { resourcePath, withQuery, type QueryValue } from './resource-path';

/** The apiserver could not be reached at all (refused, reset, TLS failure, timeout). */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan';

export interface RestClientOptions {
  /** Per-request timeout for everything but watches (default 30 s). */
  readonly requestTimeoutMs?: number;
  readonly userAgent?: string;
  /**
   * At most this many request connections at once (default: no cap); watches and other streams
   * have their own connections outside the cap.
   */
  readonly maxRequestSockets?: number;
}

export interface RawRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
}

export interface NamespaceOption {
  /** For namespaced types; defaults to the context's namespace. */
  readonly namespace?: string;
}

export interface ListOptions extends NamespaceOption {
  /** List across every namespace (namespaced types only). */
  readonly allNamespaces?: boolean;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
}

export interface WriteOptions extends NamespaceOption {
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
}

export interface PatchOptions extends WriteOptions {
  readonly patchType: PatchType;
  /** Server-side apply only: take ownership of fields other managers hold. */
  readonly force?: boolean;
  readonly subresource?: 'status' | 'scale';
}

export interface DeleteOptions extends NamespaceOption {
  readonly propagationPolicy?: PropagationPolicy;
  readonly gracePeriodSeconds?: number;
  readonly dryRun?: boolean;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

export interface WatchOptions
  extends Omit<ResourceWatchOptions, 'path'>, Pick<ListOptions, 'namespace' | 'allNamespaces'> {}

export class RestClient implements WatchTransport {
  private readonly agents: RestAgents;
  private readonly baseUrl: URL;
  private readonly requestTimeoutMs: number;
  private readonly userAgent: string;

  constructor(
    readonly connection: ConnectionConfig,
    options: RestClientOptions = {},
  ) {
    this.baseUrl = new URL(connection.server);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.userAgent = options.userAgent ?? 'flotilla-client';
    this.agents = createRestAgents(connection, {
      ...(options.maxRequestSockets !== undefined ? { maxRequestSockets: options.maxRequestSockets } : {}),
    });
  }

  /** The namespace requests use when none is given. */
  get defaultNamespace(): string {
    return this.connection.namespace;
  }

  /** Frees the kept-alive connections so the process can exit. */
  close(): void {
    this.agents.requests.destroy();
    this.agents.streams.destroy();
  }

  /**
   * Opens `connections` kept-alive request connections now (cheap GETs of /version at once), so a
   * later burst of requests finds them ready instead of paying a TCP and TLS handshake each, all at
   * the same moment, on a CPU the apiserver shares. Resolves when they are open; failures are the
   * caller's to log (the requests will connect on demand anyway).
   */
  async warmUp(connections: number): Promise<void> {
    await Promise.all(
      Array.from({ length: connections }, () => this.request<unknown>({ method: 'GET', path: '/version' })),
    );
  }

  async get<T extends KubeObject = KubeObject>(
    type: ResourceType,
    name: string,
    options: NamespaceOption = {},
  ): Promise<T> {
    return this.request<T>({
      method: 'GET',
      path: resourcePath(type, { namespace: this.namespaceFor(type, options.namespace), name }),
    });
  }

  async list<T extends KubeObject = KubeObject>(
    type: ResourceType,
    options: ListOptions = {},
  ): Promise<KubeList<T>> {
    return this.request<KubeList<T>>({
      method: 'GET',
      path: this.collectionPath(type, options),
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit,
        continue: options.continue,
        resourceVersion: options.resourceVersion,
      },
    });
  }

  /** Follows continue tokens until the whole list is read; the result carries the first page's version. */
  async listAll<T extends KubeObject = KubeObject>(
    type: ResourceType,
    options: Omit<ListOptions, 'continue'> = {},
  ): Promise<KubeList<T>> {
    const first = await this.list<T>(type, options);
    const items = [...first.items];
    let token = first.metadata.continue;
    while (token !== undefined && token !== '') {
      const page = await this.list<T>(type, { ...options, continue: token });
      items.push(...page.items);
      token = page.metadata.continue;
    }
    return { ...first, metadata: { resourceVersion: first.metadata.resourceVersion }, items };
  }

  async create<T extends KubeObject>(type: ResourceType, object: T, options: WriteOptions = {}): Promise<T> {
    return this.request<T>({
      method: 'POST',
      path: resourcePath(type, {
        namespace: this.namespaceFor(type, options.namespace ?? object.metadata.namespace),
      }),
      query: writeQuery(options),
      body: object,
    });
  }

  /** PUT: a conditional write when the object carries metadata.resourceVersion (409 if stale). */
  async update<T extends KubeObject>(type: ResourceType, object: T, options: WriteOptions = {}): Promise<T> {
    return this.putObject(type, object, options, undefined);
  }

  async updateStatus<T extends KubeObject>(
    type: ResourceType,
    object: T,
    options: WriteOptions = {},
  ): Promise<T> {
    return this.putObject(type, object, options, 'status');
  }

  async patch<T extends KubeObject = KubeObject>(
    type: ResourceType,
    name: string,
    patch: unknown,
    options: PatchOptions,
  ): Promise<T> {
    if (
      options.patchType === 'apply' &&
      (options.fieldManager === undefined || options.fieldManager === '')
    ) {
      throw new Error('server-side apply needs a fieldManager naming who owns the applied fields');
    }
    return this.request<T>({
      method: 'PATCH',
      path: resourcePath(type, {
        namespace: this.namespaceFor(type, options.namespace),
        name,
        subresource: options.subresource,
      }),
      query: {
        ...writeQuery(options),
        force: options.patchType === 'apply' && options.force ? true : undefined,
      },
      body: patch,
      contentType: PATCH_CONTENT_TYPES[options.patchType],
    });
  }

  /** Server-side apply of a whole manifest: creates it or merges it field by field. */
  async apply<T extends KubeObject>(
    type: ResourceType,
    object: T,
    options: Omit<PatchOptions, 'patchType' | 'subresource'> & { readonly fieldManager: string },
  ): Promise<T> {
    const name = object.metadata.name;
    if (name === undefined || name === '') throw new Error('apply needs metadata.name in the manifest');
    return this.patch<T>(type, name, object, {
      ...options,
      namespace: options.namespace ?? object.metadata.namespace,
      patchType: 'apply',
    });
  }

  /** Returns the object as it is being deleted (finalizers pending) or the server's success Status. */
  async delete(type: ResourceType, name: string, options: DeleteOptions = {}): Promise<KubeObject | Status> {
    const wantsBody =
      options.propagationPolicy !== undefined ||
      options.gracePeriodSeconds !== undefined ||
      options.preconditions !== undefined;
    return this.request<KubeObject | Status>({
      method: 'DELETE',
      path: resourcePath(type, { namespace: this.namespaceFor(type, options.namespace), name }),
      query: { dryRun: options.dryRun ? 'All' : undefined },
      body: wantsBody
        ? {
            kind: 'DeleteOptions',
            apiVersion: 'v1',
            propagationPolicy: options.propagationPolicy,
            gracePeriodSeconds: options.gracePeriodSeconds,
            preconditions: options.preconditions,
          }
        : undefined,
    });
  }

  /** The REST path of one object (or its subresource), in the default namespace unless told; for request(). */
  objectPath(
    type: ResourceType,
    name: string,
    options: NamespaceOption & { readonly subresource?: Subresource } = {},
  ): string {
    return resourcePath(type, {
      namespace: this.namespaceFor(type, options.namespace),
      name,
      subresource: options.subresource,
    });
  }

  /** See watchResource: reconnects from the last version seen, throws ApiError on 410 Gone. */
  watch<T extends KubeObject = KubeObject>(
    type: ResourceType,
    options: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>, void, undefined> {
    return watchResource<T>(this, { ...options, path: this.collectionPath(type, options) });
  }

  /** Any JSON request; rejects with ApiError for non-2xx answers and ConnectionError when unreachable. */
  async request<T>(raw: RawRequest): Promise<T> {
    const response = await this.send(raw, this.requestTimeoutMs, this.agents.requests);
    const body = await readBody(response);
    if (body === '') return undefined as T;
    try {
      return JSON.parse(body) as T;
    } catch {
      throw new Error(
        `${raw.method} ${raw.path}: the server answered with something that is not JSON: ${body.slice(0, 200)}`,
      );
    }
  }

  /** A streaming GET for watches: no timeout, the caller reads and destroys the response. */
  openStream(request: { readonly path: string; readonly signal?: AbortSignal }): Promise<IncomingMessage> {
    return this.send(
      { method: 'GET', path: request.path, signal: request.signal },
      undefined,
      this.agents.streams,
    );
  }

  private async putObject<T extends KubeObject>(
    type: ResourceType,
    object: T,
    options: WriteOptions,
    subresource: 'status' | undefined,
  ): Promise<T> {
    const name = object.metadata.name;
    if (name === undefined || name === '')
      throw new Error(`cannot update a ${type.kind} without metadata.name`);
    return this.request<T>({
      method: 'PUT',
      path: resourcePath(type, {
        namespace: this.namespaceFor(type, options.namespace ?? object.metadata.namespace),
        name,
        subresource,
      }),
      query: writeQuery(options),
      body: object,
    });
  }

  private collectionPath(
    type: ResourceType,
    options: Pick<ListOptions, 'namespace' | 'allNamespaces'>,
  ): string {
    const namespace = options.allNamespaces ? undefined : this.namespaceFor(type, options.namespace);
    return resourcePath(type, { namespace });
  }

  private namespaceFor(type: ResourceType, namespace: string | undefined): string | undefined {
    if (!type.namespaced) return undefined;
    return namespace !== undefined && namespace !== '' ? namespace : this.connection.namespace;
  }

  /** Resolves with the response once its status is 2xx; otherwise reads the body into an ApiError. */
  private send(
    raw: RawRequest,
    timeoutMs: number | undefined,
    agent: RestAgents['requests'],
  ): Promise<IncomingMessage> {
    const url = new URL(withQuery(raw.path, raw.query), this.baseUrl);
    const payload =
      raw.body === undefined ? undefined : typeof raw.body === 'string' ? raw.body : JSON.stringify(raw.body);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.userAgent };
    if (this.connection.token !== undefined && this.connection.token !== '') {
      headers['Authorization'] = `Bearer ${this.connection.token}`;
    }
    if (payload !== undefined) {
      headers['Content-Type'] = raw.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const described = `${raw.method} ${url.pathname}${url.search}`;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;

    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = send(url, { method: raw.method, headers, agent, signal: raw.signal }, (response) => {
        const code = response.statusCode ?? 0;
        if (code >= 200 && code < 300) {
          resolve(response);
          return;
        }
        readBody(response).then(
          (body) => reject(ApiError.fromResponse({ httpCode: code, body, request: described })),
          (error: unknown) => reject(this.connectionError(error, described)),
        );
      });
      if (timeoutMs !== undefined) {
        request.setTimeout(timeoutMs, () =>
          request.destroy(
            new ConnectionError(`${described}: no answer from ${this.baseUrl.origin} within ${timeoutMs} ms`),
          ),
        );
      }
      request.once('error', (error) =>
        reject(error instanceof ConnectionError ? error : this.connectionError(error, described)),
      );
      request.end(payload);
    });
  }

  private connectionError(error: unknown, described: string): Error {
    if (error instanceof Error && error.name === 'AbortError') return error;
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    const server = this.baseUrl.origin;
    if (code === 'ECONNREFUSED') {
      return new ConnectionError(
        `cannot reach the apiserver at ${server} (connection refused): is the cluster running? Start one with \`flotilla up\` or check the server in your kubeconfig`,
      );
    }
    if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      return new ConnectionError(
        `cannot verify the apiserver's certificate at ${server} (${message}): the kubeconfig's certificate-authority-data must hold the cluster CA that signed it`,
      );
    }
    return new ConnectionError(`${described} to ${server} failed: ${message}`);
  }
}

function writeQuery(options: WriteOptions): Record<string, QueryValue> {
  return { dryRun: options.dryRun ? 'All' : undefined, fieldManager: options.fieldManager };
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.once('error', reject);
  });
}
