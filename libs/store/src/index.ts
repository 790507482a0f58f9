export { StoreError } from './store.types';
export type {
  ListOptions,
  ListResult,
  Store,
  StoreErrorCode,
  StoreEvent,
  StoreEventType,
  StoreWatch,
  WatchOptions,
} from './store.types';
export { DEFAULT_MAX_VALUE_BYTES, EtcdStore, createdJson } from './etcd.store';
export type { EtcdStoreOptions } from './etcd.store';
export { WatchCache } from './watch-cache';
export type {
  CacheEvent,
  CacheEventType,
  CacheWatch,
  CacheWatchOptions,
  WatchCacheOptions,
  WatchTrigger,
} from './watch-cache';
export { COMPACT_REVISION_KEY, Compactor } from './compactor';
export type { CompactorOptions } from './compactor';
