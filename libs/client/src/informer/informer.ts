// An informer keeps a local, read-only copy of one resource (optionally one namespace or selector):
// list once, then watch from the list's resourceVersion; when the watch says 410 Gone, list again and
// turn the difference into add/update/delete events. Handlers and readers share the cached objects,
// which are deep-frozen so no reader can corrupt what the next one sees.
import type { KubeObject, ResourceType } from '@flotilla/api';
import { isGone } from '../rest/api-error';
import type { RestClient } from '../rest/rest-client';
import { sleep } from '../watch/resource-watch';

export interface InformerHandlers<T extends KubeObject> {
  readonly onAdd?: (object: T) => void;
  /** Also called by resync with the same object twice, so level-triggered code re-checks everything. */
  readonly onUpdate?: (previous: T, current: T) => void;
  /** Gets the last state the server reported (the object in the DELETED event, or the cached one after a relist). */
  readonly onDelete?: (object: T) => void;
}

export interface InformerOptions {
  readonly client: RestClient;
  readonly resource: ResourceType;
  /** Undefined watches every namespace. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Re-deliver every cached object as an update this often; 0 or undefined turns resync off. */
  readonly resyncPeriodMs?: number;
  /**
   * Each watch connection asks the server to end it after this long (default: a random 5-10 minutes),
   * so long-lived informers spread over apiserver replicas again after one restarts.
   */
  readonly watchTimeoutSeconds?: number;
  /**
   * Told about failed lists, watch reconnects, expired watches (a 410 Gone ApiError, followed by a
   * relist) and handler exceptions; the informer keeps going in every case.
   */
  readonly onError?: (error: unknown) => void;
}

export interface Informer<T extends KubeObject> {
  /** Handlers added after sync first receive an add for every cached object, so none are missed. */
  addEventHandler(handlers: InformerHandlers<T>): void;
  /** Starts listing and watching in the background; idempotent. */
  start(): void;
  stop(): void;
  /** True once the first list has been delivered. */
  hasSynced(): boolean;
  /** Resolves once synced; rejects if the informer is stopped first or the signal aborts. */
  waitForSync(signal?: AbortSignal): Promise<void>;
  /** The cached object for "namespace/name" (or "name" for cluster-scoped types). Frozen. */
  get(key: string): T | undefined;
  list(): readonly T[];
  /** The resourceVersion of the newest event or list applied. */
  lastSyncResourceVersion(): string | undefined;
}

/** The cache key kubectl and client-go use: "namespace/name", or "name" without a namespace. */
export function objectKey(object: Pick<KubeObject, 'metadata'>): string {
  const { namespace, name } = object.metadata;
  return namespace !== undefined && namespace !== '' ? `${namespace}/${name ?? ''}` : (name ?? '');
}

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 10_000;
const MIN_WATCH_TIMEOUT_SECONDS = 300;

export function createInformer<T extends KubeObject = KubeObject>(options: InformerOptions): Informer<T> {
  return new ResourceInformer<T>(options);
}

class ResourceInformer<T extends KubeObject> implements Informer<T> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly syncWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private controller: AbortController | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private synced = false;
  private resourceVersion: string | undefined;

  constructor(private readonly options: InformerOptions) {}

  addEventHandler(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
    if (this.synced) for (const object of this.cache.values()) this.deliver(handlers.onAdd, object);
  }

  start(): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    void this.run(controller.signal);
    const period = this.options.resyncPeriodMs ?? 0;
    if (period > 0) {
      this.resyncTimer = setInterval(() => this.resync(), period);
      this.resyncTimer.unref();
    }
  }

  stop(): void {
    this.controller?.abort();
    this.controller = undefined;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    for (const waiter of this.syncWaiters.splice(0))
      waiter.reject(new Error('the informer was stopped before it synced'));
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.syncWaiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.syncWaiters.indexOf(waiter);
          if (index !== -1) this.syncWaiters.splice(index, 1);
          reject(new Error(`gave up waiting for the ${this.options.resource.plural} informer to sync`));
        },
        { once: true },
      );
    });
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): readonly T[] {
    return [...this.cache.values()];
  }

  lastSyncResourceVersion(): string | undefined {
    return this.resourceVersion;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.relist(signal);
        failures = 0;
        await this.watch(signal);
      } catch (error) {
        if (signal.aborted) return;
        this.report(error);
        // Gone means our resume point was compacted: relist at once. Anything else: back off first.
        if (!isGone(error)) {
          failures += 1;
          await sleep(Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1)), signal);
        }
      }
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const { client, resource } = this.options;
    const list = await client.listAll<T>(resource, this.listScope());
    if (signal.aborted) return;
    const seen = new Set<string>();
    for (const item of list.items) {
      // Lists leave out kind/apiVersion on items; fill them so handlers see complete objects.
      const object = deepFreeze({
        ...item,
        apiVersion: item.apiVersion ?? list.apiVersion,
        kind: item.kind ?? resource.kind,
      });
      const key = objectKey(object);
      seen.add(key);
      this.upsert(key, object);
    }
    for (const [key, object] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      for (const handler of this.handlers) this.deliver(handler.onDelete, object);
    }
    this.resourceVersion = list.metadata.resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const waiter of this.syncWaiters.splice(0)) waiter.resolve();
    }
  }

  private async watch(signal: AbortSignal): Promise<void> {
    const { client, resource, onError } = this.options;
    const events = client.watch<T>(resource, {
      ...this.listScope(),
      resourceVersion: this.resourceVersion,
      timeoutSeconds:
        this.options.watchTimeoutSeconds ?? Math.round(MIN_WATCH_TIMEOUT_SECONDS * (1 + Math.random())),
      signal,
      onReconnect: ({ error }) => {
        if (error !== undefined) onError?.(error);
      },
    });
    for await (const event of events) {
      const version = event.object.metadata.resourceVersion;
      if (version !== undefined) this.resourceVersion = version;
      if (event.type === 'BOOKMARK') continue;
      const object = deepFreeze(event.object);
      const key = objectKey(object);
      if (event.type === 'DELETED') {
        this.cache.delete(key);
        for (const handler of this.handlers) this.deliver(handler.onDelete, object);
      } else {
        this.upsert(key, object);
      }
    }
  }

  private upsert(key: string, object: T): void {
    const previous = this.cache.get(key);
    if (previous !== undefined && previous.metadata.resourceVersion === object.metadata.resourceVersion)
      return;
    this.cache.set(key, object);
    for (const handler of this.handlers) {
      if (previous === undefined) this.deliver(handler.onAdd, object);
      else if (handler.onUpdate) this.deliverUpdate(handler.onUpdate, previous, object);
    }
  }

  private resync(): void {
    if (!this.synced) return;
    for (const object of this.cache.values()) {
      for (const handler of this.handlers) {
        if (handler.onUpdate) this.deliverUpdate(handler.onUpdate, object, object);
      }
    }
  }

  private listScope(): {
    namespace?: string;
    allNamespaces: boolean;
    labelSelector?: string;
    fieldSelector?: string;
  } {
    const { namespace, labelSelector, fieldSelector } = this.options;
    return { namespace, allNamespaces: namespace === undefined, labelSelector, fieldSelector };
  }

  private deliver(handler: ((object: T) => void) | undefined, object: T): void {
    if (!handler) return;
    try {
      handler(object);
    } catch (error) {
      this.report(error);
    }
  }

  private deliverUpdate(handler: (previous: T, current: T) => void, previous: T, current: T): void {
    try {
      handler(previous, current);
    } catch (error) {
      this.report(error);
    }
  }

  private report(error: unknown): void {
    this.options.onError?.(error);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
