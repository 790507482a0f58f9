// A watch cache for one resource prefix, as kube-apiserver keeps one per resource: a list at start,
// then one etcd watch keeps an in-memory copy current and a window of recent events. Lists at a
// known revision and watches are served from memory, so N informers cost one etcd watch, not N.
//
// Revisions: `revision` is the newest event seen for this prefix (or the start-up list's revision).
// `windowStart` is the oldest revision from which the window still holds every later event; a watch
// from an older revision is handed to etcd directly, which answers Gone once it has been compacted.
import type { KubeObject } from '@flotilla/api';
import { StoreError, type Store, type StoreEvent, type StoreWatch } from './store.types';

export type CacheEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheEvent {
  type: CacheEventType;
  object: KubeObject;
  revision: number;
}

export interface CacheWatchOptions {
  /** Send events after this revision; undefined sends the current state as ADDED events first. */
  fromRevision?: number;
  /** Which objects this watcher sees; an object that stops matching arrives as DELETED. */
  filter: (object: KubeObject) => boolean;
  /** Restricts the watch to keys under this prefix (a namespace), for speed. */
  keyPrefix?: string;
  onEvent: (event: CacheEvent) => void;
  /**
   * The value of the cache's trigger field this watcher's filter requires (spec.nodeName=X): only
   * events whose object has that value, now or before, are offered to it.
   */
  triggerValue?: string;
  /** The watch ended (cache reset, store lost, or Gone): the client must re-watch or re-list. */
  onClose: (reason: StoreError) => void;
}

export interface CacheWatch {
  close(): void;
  /** Every event up to this revision has been considered for the watcher: a safe bookmark. */
  readonly revision: number;
}

export interface WatchCacheOptions {
  store: Store;
  prefix: string;
  /** Events kept for watchers that resume from a revision (default 4096). */
  windowSize?: number;
  /** Called when the etcd watch fails and the cache re-lists; for logs. */
  onReset?: (reason: StoreError) => void;
  /**
   * A field watchers can be indexed by, as kube-apiserver's watch cache indexes pod watchers by
   * spec.nodeName: with 1,000 node agents each watching its own pods, an event is offered to the
   * watchers of its node (before and after) instead of to all 1,000 filters.
   */
  trigger?: WatchTrigger;
}

export interface WatchTrigger {
  /** The field selector's name for it, e.g. spec.nodeName. */
  field: string;
  valueOf: (object: KubeObject) => string;
}

interface Watcher {
  options: CacheWatchOptions;
  keyPrefix: string;
  afterRevision: number;
}

export class WatchCache {
  private readonly store: Store;
  private readonly prefix: string;
  private readonly windowSize: number;
  private readonly objects = new Map<string, KubeObject>();
  private window: StoreEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  /** Watchers with a triggerValue, by that value. */
  private readonly triggered = new Map<string, Set<Watcher>>();
  /**
   * Keys of the objects by their trigger value, so the current state a new indexed watcher starts
   * with (a node agent's pods, on every (re)connect of 1,000 agents) is read from its own bucket
   * instead of filtering every object.
   */
  private readonly byTrigger = new Map<string, Set<string>>();
  private storeWatch: StoreWatch | undefined;
  private revisionValue = 0;
  private windowStartValue = 0;
  private readyValue = false;
  private stopped = false;
  private revisionWaiters: Array<{ revision: number; resolve: () => void }> = [];
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WatchCacheOptions) {
    this.store = options.store;
    this.prefix = options.prefix;
    this.windowSize = options.windowSize ?? 4096;
  }

  get ready(): boolean {
    return this.readyValue;
  }

  get revision(): number {
    return this.revisionValue;
  }

  get windowStart(): number {
    return this.windowStartValue;
  }

  /** The field watchers may be indexed by (see WatchCacheOptions.trigger). */
  get triggerField(): string | undefined {
    return this.options.trigger?.field;
  }

  async start(): Promise<void> {
    const listed = await this.store.list(this.prefix);
    this.objects.clear();
    this.byTrigger.clear();
    for (const item of listed.items) {
      const key = this.keyOf(item);
      this.objects.set(key, item);
      this.index(key, undefined, item);
    }
    this.window = [];
    this.revisionValue = listed.revision;
    this.windowStartValue = listed.revision;
    this.storeWatch = await this.store.watch(this.prefix, {
      fromRevision: listed.revision,
      onEvent: (event) => this.apply(event),
      onError: (error) => this.reset(error),
      onProgress: (revision) => this.advance(revision),
    });
    this.readyValue = true;
    this.advance(listed.revision);
  }

  private keyOf(object: KubeObject): string {
    const namespace = object.metadata?.namespace;
    const name = object.metadata?.name ?? '';
    return namespace ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`;
  }

  private apply(received: StoreEvent): void {
    const event = this.withCachedPrevious(received);
    const held = this.objects.get(event.key);
    if (event.type === 'DELETED') {
      this.objects.delete(event.key);
      this.index(event.key, held, undefined);
    } else {
      this.objects.set(event.key, event.object);
      this.index(event.key, held, event.object);
    }
    this.window.push(event);
    if (this.window.length > this.windowSize) {
      const dropped = this.window.shift();
      if (dropped) this.windowStartValue = dropped.revision;
    }
    for (const watcher of this.watchers) this.deliver(watcher, event);
    const trigger = this.options.trigger;
    if (trigger && this.triggered.size > 0) {
      const now = trigger.valueOf(event.object);
      this.triggered.get(now)?.forEach((watcher) => this.deliver(watcher, event));
      const before = event.previous ? trigger.valueOf(event.previous) : now;
      if (before !== now) this.triggered.get(before)?.forEach((watcher) => this.deliver(watcher, event));
    }
    this.advance(event.revision);
  }

  /** Moves `key` in byTrigger from the bucket of what the cache held to that of what it holds now. */
  private index(key: string, before: KubeObject | undefined, after: KubeObject | undefined): void {
    const trigger = this.options.trigger;
    if (!trigger) return;
    const from = before ? trigger.valueOf(before) : undefined;
    const to = after ? trigger.valueOf(after) : undefined;
    if (from === to) return;
    if (from !== undefined) {
      const bucket = this.byTrigger.get(from);
      bucket?.delete(key);
      if (bucket?.size === 0) this.byTrigger.delete(from);
    }
    if (to !== undefined) {
      let bucket = this.byTrigger.get(to);
      if (!bucket) this.byTrigger.set(to, (bucket = new Set()));
      bucket.add(key);
    }
  }

  /** The event with the cache's own copy as its previous value when that copy is the same revision. */
  private withCachedPrevious(event: StoreEvent): StoreEvent {
    if (event.type !== 'MODIFIED' || event.previousRevision === undefined) return event;
    const held = this.objects.get(event.key);
    if (held?.metadata?.resourceVersion !== String(event.previousRevision)) return event;
    return {
      type: event.type,
      key: event.key,
      object: event.object,
      previous: held,
      revision: event.revision,
    };
  }

  /** A progress notification: nothing changed under the prefix up to this revision. */
  private advance(revision: number): void {
    if (revision > this.revisionValue) this.revisionValue = revision;
    if (this.revisionWaiters.length === 0) return;
    const still: typeof this.revisionWaiters = [];
    for (const waiter of this.revisionWaiters) {
      if (waiter.revision <= this.revisionValue) waiter.resolve();
      else still.push(waiter);
    }
    this.revisionWaiters = still;
  }

  private deliver(watcher: Watcher, event: StoreEvent): void {
    if (event.revision <= watcher.afterRevision) return;
    watcher.afterRevision = event.revision;
    if (!event.key.startsWith(watcher.keyPrefix)) return;
    const { filter, onEvent } = watcher.options;
    const matchesNow = filter(event.object);
    const matchedBefore = event.previous !== undefined && filter(event.previous);
    if (event.type === 'DELETED') {
      if (matchesNow || matchedBefore)
        onEvent({ type: 'DELETED', object: event.object, revision: event.revision });
      return;
    }
    if (event.type === 'ADDED' || !matchedBefore) {
      if (matchesNow) onEvent({ type: 'ADDED', object: event.object, revision: event.revision });
      return;
    }
    onEvent({ type: matchesNow ? 'MODIFIED' : 'DELETED', object: event.object, revision: event.revision });
  }

  private reset(reason: StoreError): void {
    this.readyValue = false;
    this.storeWatch?.close();
    this.storeWatch = undefined;
    this.options.onReset?.(reason);
    const watchers = [...this.watchers, ...[...this.triggered.values()].flatMap((set) => [...set])];
    this.watchers.clear();
    this.triggered.clear();
    for (const watcher of watchers) watcher.options.onClose(reason);
    this.scheduleRestart(250);
  }

  private scheduleRestart(delayMs: number): void {
    if (this.stopped) return;
    this.restartTimer = setTimeout(() => {
      this.start().catch((error: unknown) => {
        const storeError =
          error instanceof StoreError
            ? error
            : new StoreError('Unavailable', `re-list failed: ${String(error)}`);
        this.options.onReset?.(storeError);
        this.scheduleRestart(Math.min(delayMs * 2, 5000));
      });
    }, delayMs);
    this.restartTimer.unref();
  }

  /**
   * History up to `revision` has been compacted in etcd: drop it from the window too, so that a
   * watch from before it is answered with Gone, as it would be by etcd.
   */
  trimTo(revision: number): void {
    if (revision <= this.windowStartValue) return;
    this.window = this.window.filter((event) => event.revision > revision);
    this.windowStartValue = revision;
  }

  /** Resolves once the cache has seen `revision` (true), or after the timeout (false). */
  waitForRevision(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.readyValue && revision <= this.revisionValue) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.revisionWaiters = this.revisionWaiters.filter((waiter) => waiter !== entry);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const entry = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.revisionWaiters.push(entry);
    });
  }

  get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  /** Objects under keyPrefix (default: all) that pass the filter, sorted by key as etcd returns them. */
  list(options: { keyPrefix?: string; filter?: (object: KubeObject) => boolean } = {}): {
    items: KubeObject[];
    revision: number;
  } {
    const keyPrefix = options.keyPrefix ?? this.prefix;
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(keyPrefix)).sort();
    const items: KubeObject[] = [];
    for (const key of keys) {
      const object = this.objects.get(key);
      if (object && (!options.filter || options.filter(object))) items.push(object);
    }
    return { items, revision: this.revisionValue };
  }

  /**
   * Starts a watch. From a revision inside the window it replays the window; from an older one it
   * delegates to the store (which fails with Gone when compacted); without a revision it first sends
   * the current state as ADDED events.
   */
  async watch(options: CacheWatchOptions): Promise<CacheWatch> {
    if (!this.readyValue) {
      throw new StoreError('Unavailable', `the watch cache for ${this.prefix} is starting; retry shortly`);
    }
    const keyPrefix = options.keyPrefix ?? this.prefix;
    const from = options.fromRevision;
    if (from !== undefined && from < this.windowStartValue)
      return this.watchFromStore(options, keyPrefix, from);
    const watcher: Watcher = { options, keyPrefix, afterRevision: from ?? this.revisionValue };
    const triggerValue = this.options.trigger ? options.triggerValue : undefined;
    if (from === undefined) {
      // Filter, then sort what matched: a node agent's watch matches a few of 10,000 pods. A watcher
      // whose filter requires a trigger value can match only objects in that value's bucket.
      const candidates =
        triggerValue === undefined ? this.objects.keys() : (this.byTrigger.get(triggerValue) ?? []);
      const matching: Array<[string, KubeObject]> = [];
      for (const key of candidates) {
        const object = this.objects.get(key);
        if (object && key.startsWith(keyPrefix) && options.filter(object)) matching.push([key, object]);
      }
      matching.sort(([a], [b]) => (a < b ? -1 : 1));
      for (const [, object] of matching) {
        options.onEvent({ type: 'ADDED', object, revision: this.revisionValue });
      }
    } else {
      for (const event of this.window) this.deliver(watcher, event);
      watcher.afterRevision = Math.max(from, this.revisionValue);
    }
    if (triggerValue === undefined) {
      this.watchers.add(watcher);
      return {
        close: () => this.watchers.delete(watcher),
        get revision() {
          return watcher.afterRevision;
        },
      };
    }
    let set = this.triggered.get(triggerValue);
    if (!set) this.triggered.set(triggerValue, (set = new Set()));
    set.add(watcher);
    const cacheRevision = (): number => this.revisionValue;
    return {
      close: () => {
        const current = this.triggered.get(triggerValue);
        current?.delete(watcher);
        if (current?.size === 0) this.triggered.delete(triggerValue);
      },
      // Events are offered synchronously as they arrive, so one that skipped this watcher has
      // still been considered for it: the cache's revision is a safe bookmark.
      get revision() {
        return Math.max(watcher.afterRevision, cacheRevision());
      },
    };
  }

  private async watchFromStore(
    options: CacheWatchOptions,
    keyPrefix: string,
    from: number,
  ): Promise<CacheWatch> {
    const watcher: Watcher = { options, keyPrefix, afterRevision: from };
    const storeWatch = await this.store.watch(keyPrefix, {
      fromRevision: from,
      onEvent: (event) => this.deliver(watcher, event),
      onError: (error) => options.onClose(error),
    });
    return {
      close: () => storeWatch.close(),
      get revision() {
        return watcher.afterRevision;
      },
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.storeWatch?.close();
    this.storeWatch = undefined;
    this.readyValue = false;
    this.watchers.clear();
    this.triggered.clear();
    this.byTrigger.clear();
  }
}
