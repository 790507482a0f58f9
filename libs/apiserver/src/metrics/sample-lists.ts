// The storage primitive under usage samples: short lists, newest first, that expire as a whole. Redis
// (lists with PEXPIRE) when the apiserver has one, so every apiserver replica serves what any of them
// received; this process's memory otherwise, so a single apiserver without Redis still serves metrics.

export interface SampleListEntry {
  key: string;
  value: string;
}

export interface SamplePushOptions {
  /** How many values each list keeps, newest first. */
  keep: number;
  /** The list vanishes this long after its last push (a silent node's metrics go with it). */
  ttlMs: number;
}

export interface SampleLists {
  push(entries: readonly SampleListEntry[], options: SamplePushOptions): Promise<void>;
  /** The values of each key, newest first; [] for a missing or expired key. */
  read(keys: readonly string[]): Promise<string[][]>;
  remove(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface MemorySampleListsOptions {
  /** The clock expiry is measured on (tests step it). */
  now?: () => number;
}

export class MemorySampleLists implements SampleLists {
  private readonly lists = new Map<string, { values: string[]; expiresAt: number }>();
  private readonly now: () => number;

  constructor(options: MemorySampleListsOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  push(entries: readonly SampleListEntry[], options: SamplePushOptions): Promise<void> {
    const now = this.now();
    this.sweep(now);
    for (const { key, value } of entries) {
      const live = this.lists.get(key);
      const values = live && live.expiresAt > now ? live.values : [];
      this.lists.set(key, {
        values: [value, ...values].slice(0, options.keep),
        expiresAt: now + options.ttlMs,
      });
    }
    return Promise.resolve();
  }

  read(keys: readonly string[]): Promise<string[][]> {
    const now = this.now();
    return Promise.resolve(
      keys.map((key) => {
        const list = this.lists.get(key);
        return list && list.expiresAt > now ? [...list.values] : [];
      }),
    );
  }

  remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.lists.delete(key);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.lists.clear();
    return Promise.resolve();
  }

  /** Expired lists are dropped on write, so pods that went away do not pile up in memory. */
  private sweep(now: number): void {
    for (const [key, list] of this.lists) if (list.expiresAt <= now) this.lists.delete(key);
  }
}
