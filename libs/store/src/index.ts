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
