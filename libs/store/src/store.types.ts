// The storage interface the apiserver uses, kept as small as kine's: get, list, create, update,
// delete, watch, compact. Keys are full etcd keys (see storageKey in @flotilla/api); values are
// Kubernetes objects whose metadata.resourceVersion is the etcd mod revision of that key.
import type { KubeObject } from '@flotilla/api';

export type StoreErrorCode =
  'BadRequest' | 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Gone' | 'TooLarge' | 'Unavailable';

/** Every failure the store reports; the apiserver maps code to a Kubernetes Status. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    /** For Gone: the oldest revision still available. For Conflict: the current revision of the key. */
    readonly revision?: number,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface ListOptions {
  /** At most this many items; 0 or undefined means all. */
  limit?: number;
  /** The opaque token a previous page returned. */
  continue?: string;
  /** Read at this revision (0 or undefined: latest). A continue token carries its own revision. */
  revision?: number;
}

export interface ListResult {
  items: KubeObject[];
  /** The store revision the list reflects: a watch from here misses nothing. */
  revision: number;
  /** Set when more items remain. */
  continue?: string;
  remainingItemCount?: number;
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  key: string;
  /** For DELETED: the object as it was last, with resourceVersion set to the deletion revision. */
  object: KubeObject;
  /** The object before this event (MODIFIED and DELETED), so selector watches can see it leave. */
  previous?: KubeObject;
  /**
   * The revision of `previous`, known without decoding it: a watch cache that holds the object at
   * that revision uses its own copy, and `previous` (decoded on first use) is never parsed.
   */
  previousRevision?: number;
  revision: number;
}

export interface WatchOptions {
  /** Deliver events after this revision (exclusive). Throws StoreError Gone if it has been compacted. */
  fromRevision: number;
  onEvent: (event: StoreEvent) => void;
  /** Called once when the watch ends for good (compaction, etcd lost); not after close(). */
  onError: (error: StoreError) => void;
  /** Called with the current revision at least every few seconds when no events flow, for bookmarks. */
  onProgress?: (revision: number) => void;
}

export interface StoreWatch {
  close(): void;
}

export interface Store {
  get(key: string): Promise<KubeObject | undefined>;
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Fails with AlreadyExists if the key exists. Returns the object with resourceVersion set. */
  create(key: string, object: KubeObject): Promise<KubeObject>;
  /**
   * Writes only if the key's mod revision still equals expectedRevision (Conflict otherwise,
   * NotFound if it is gone). Returns the object with its new resourceVersion.
   */
  update(key: string, object: KubeObject, expectedRevision: number): Promise<KubeObject>;
  /** Deletes, optionally only at expectedRevision. Returns the last stored object. */
  delete(key: string, expectedRevision?: number): Promise<KubeObject>;
  watch(prefix: string, options: WatchOptions): Promise<StoreWatch>;
  compact(revision: number): Promise<void>;
  /** The current store revision. */
  currentRevision(): Promise<number>;
  close(): Promise<void>;
}
