// The node service's view of the API: typed get/create/update/delete/watch over the same resource
// handler the REST routes use, so Node, Lease and pod status writes from agents get the validation,
// defaults, managed fields and resourceVersion-compared transactions of any other client.
import {
  RESOURCE_TYPES,
  type KubeObject,
  type ObjectMeta,
  type ResourceType,
  type Subresource,
  type WatchEvent,
} from '@flotilla/api';
import { ApiError } from '../http/api-error';
import { parseReadOptions, type Query } from '../resources/request-options';
import type { ResourceHandler } from '../resources/resource-handler';
import type { ResourceTarget } from '../resources/resource-path';

/** Any typed object of ours (Node, Pod, Lease): what the handler stores and returns. */
export interface Stored {
  metadata: ObjectMeta;
}

export type NodeObjectKind =
  'Node' | 'Pod' | 'Lease' | 'ConfigMap' | 'Secret' | 'Event' | 'Service' | 'Endpoints';

export interface ObjectRef {
  kind: NodeObjectKind;
  /** For namespaced kinds. */
  namespace?: string;
  name: string;
}

export interface ObjectWatch {
  close(): void;
}

const GROUPS: Record<NodeObjectKind, string> = {
  Node: '',
  Pod: '',
  Lease: 'coordination.k8s.io',
  ConfigMap: '',
  Secret: '',
  Event: '',
  Service: '',
  Endpoints: '',
};

function typeOf(kind: NodeObjectKind): ResourceType {
  const type = RESOURCE_TYPES.find(
    (candidate) => candidate.kind === kind && candidate.group === GROUPS[kind],
  );
  if (!type) throw new Error(`the resource registry has no ${kind}`);
  return type;
}

export function apiErrorCode(error: unknown): number | undefined {
  return error instanceof ApiError ? error.code : undefined;
}

export function isConflict(error: unknown): boolean {
  return error instanceof ApiError && error.code === 409 && error.status.reason === 'Conflict';
}

export class NodeObjects {
  constructor(
    private readonly handler: ResourceHandler,
    /** Recorded in managedFields of every write, as kubelet's writes record "kubelet". */
    private readonly fieldManager: string,
  ) {}

  private target(
    ref: Omit<ObjectRef, 'name'> & { name?: string },
    subresource?: Subresource,
  ): ResourceTarget {
    const target: ResourceTarget = { type: typeOf(ref.kind) };
    if (ref.namespace !== undefined) target.namespace = ref.namespace;
    if (ref.name !== undefined) target.name = ref.name;
    if (subresource !== undefined) target.subresource = subresource;
    return target;
  }

  private async object<T extends Stored>(
    method: string,
    target: ResourceTarget,
    options: { body?: unknown; query?: Query } = {},
  ): Promise<T> {
    const response = await this.handler.handle({
      method,
      target,
      query: options.query ?? {},
      contentType: 'application/json',
      rawBody: options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body)),
    });
    if (response.kind !== 'object') throw new Error(`${method} ${target.type.plural} answered a watch`);
    return response.body as T;
  }

  /**
   * The live object from etcd (callers write back what they read); undefined if absent. With cached,
   * the watch cache's copy (resourceVersion "0"): no etcd read, but possibly a little behind, so only
   * for a write that is conditional on its resourceVersion and retried from the live object on 409.
   */
  async get<T extends Stored>(ref: ObjectRef, options: { cached?: boolean } = {}): Promise<T | undefined> {
    try {
      return await this.object<T>(
        'GET',
        this.target(ref),
        options.cached === true ? { query: { resourceVersion: '0' } } : {},
      );
    } catch (error) {
      if (apiErrorCode(error) === 404) return undefined;
      throw error;
    }
  }

  /** Objects of a kind in a namespace from the watch cache (resourceVersion "0": any recent state). */
  async list<T extends Stored>(options: {
    kind: NodeObjectKind;
    namespace?: string;
    fieldSelector?: string;
  }): Promise<T[]> {
    const list = await this.object<Stored & { items: T[] }>(
      'GET',
      this.target({ kind: options.kind, ...(options.namespace ? { namespace: options.namespace } : {}) }),
      {
        query: {
          resourceVersion: '0',
          ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
        },
      },
    );
    return list.items;
  }

  create<T extends Stored>(ref: ObjectRef, object: T): Promise<T> {
    return this.object<T>(
      'POST',
      this.target({ kind: ref.kind, ...(ref.namespace ? { namespace: ref.namespace } : {}) }),
      {
        body: object,
        query: { fieldManager: this.fieldManager },
      },
    );
  }

  /** PUT; the object's metadata.resourceVersion makes it conditional (409 when it moved). */
  update<T extends Stored>(ref: ObjectRef, object: T, subresource?: 'status'): Promise<T> {
    return this.object<T>('PUT', this.target(ref, subresource), {
      body: object,
      query: { fieldManager: this.fieldManager },
    });
  }

  /**
   * Read-modify-write: `change` gets the live object and returns the one to write, conditional on
   * the live resourceVersion; on a conflict it is called again with the newer object. `read`
   * 'cache-first' (the default) starts from the watch cache's copy, saving the etcd read and the
   * JSON round trip of a GET and a PUT; 'etcd' reads etcd first. An absent object is a 404 ApiError.
   * `change` must not modify what it is given (it may be the cache's own copy). `written`: what the
   * caller's last modify of this object returned, used instead of the cache's copy when newer.
   */
  async modify<T extends Stored>(
    ref: ObjectRef,
    change: (live: T) => T,
    options: { subresource?: 'status'; read?: 'etcd' | 'cache-first'; written?: T } = {},
  ): Promise<T> {
    const written = await this.handler.modify(
      this.target(ref, options.subresource),
      {
        fieldManager: this.fieldManager,
        read: options.read ?? 'cache-first',
        ...(options.written ? { written: options.written as unknown as KubeObject } : {}),
      },
      (live) => change(live as unknown as T) as unknown as KubeObject,
    );
    return written as unknown as T;
  }

  async delete(ref: ObjectRef, options: { uid?: string; gracePeriodSeconds?: number } = {}): Promise<void> {
    await this.object('DELETE', this.target(ref), {
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        ...(options.gracePeriodSeconds !== undefined
          ? { gracePeriodSeconds: options.gracePeriodSeconds }
          : {}),
        ...(options.uid !== undefined ? { preconditions: { uid: options.uid } } : {}),
      },
    });
  }

  /**
   * Watches a kind across namespaces from the watch cache: the current objects arrive first as ADDED
   * (all of them before this resolves), then changes. `onEnd` means the watch is over (a cache reset):
   * the caller starts a new one, which again begins with the full current state.
   */
  watch(options: {
    kind: NodeObjectKind;
    fieldSelector?: string;
    onEvent: (event: WatchEvent) => void;
    onEnd: () => void;
  }): Promise<ObjectWatch> {
    const target = this.target({ kind: options.kind });
    const query: Query = options.fieldSelector ? { fieldSelector: options.fieldSelector } : {};
    return this.handler.watch(
      target,
      { ...parseReadOptions(query, target.type), watch: true },
      {
        send: options.onEvent,
        end: options.onEnd,
      },
    );
  }
}
