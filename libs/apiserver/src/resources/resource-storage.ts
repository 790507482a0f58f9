// One store for writes and one watch cache per resource type for reads, as kube-apiserver runs them.
import { RESOURCE_TYPES, fieldValue, storagePrefix, type ResourceType } from '@flotilla/api';
import { Compactor, WatchCache, type Store, type StoreError, type WatchTrigger } from '@flotilla/store';

/** Pods are watched by node (every agent watches spec.nodeName=<its name>), as kube-apiserver indexes them. */
const POD_TRIGGER: WatchTrigger = {
  field: 'spec.nodeName',
  valueOf: (object) => fieldValue(object, 'spec.nodeName'),
};

export interface ResourceStorageOptions {
  store: Store;
  /** How often history is compacted (Kubernetes: 5 minutes). */
  compactionIntervalMs?: number;
  onCacheReset?: (type: ResourceType, reason: StoreError) => void;
  onCompactionError?: (error: unknown) => void;
}

export class ResourceStorage {
  readonly store: Store;
  private readonly caches = new Map<ResourceType, WatchCache>();
  readonly compactor: Compactor;

  constructor(options: ResourceStorageOptions) {
    this.store = options.store;
    this.compactor = new Compactor({
      store: options.store,
      intervalMs: options.compactionIntervalMs ?? 5 * 60_000,
      onCompacted: (revision) => this.caches.forEach((cache) => cache.trimTo(revision)),
      ...(options.onCompactionError ? { onError: options.onCompactionError } : {}),
    });
    for (const type of RESOURCE_TYPES) {
      this.caches.set(
        type,
        new WatchCache({
          store: options.store,
          prefix: storagePrefix(type, undefined),
          onReset: (reason) => options.onCacheReset?.(type, reason),
          ...(type.kind === 'Pod' && type.group === '' ? { trigger: POD_TRIGGER } : {}),
        }),
      );
    }
  }

  async start(): Promise<void> {
    await Promise.all([...this.caches.values()].map((cache) => cache.start()));
    this.compactor.start();
  }

  cache(type: ResourceType): WatchCache {
    const cache = this.caches.get(type);
    if (!cache) throw new Error(`no watch cache for ${type.plural}`);
    return cache;
  }

  get ready(): boolean {
    return [...this.caches.values()].every((cache) => cache.ready);
  }

  async stop(): Promise<void> {
    this.compactor.stop();
    for (const cache of this.caches.values()) cache.stop();
    await this.store.close();
  }
}
