// Kubernetes' ControllerExpectations: a controller that has just created or deleted pods must not act
// on its informer cache until the cache has seen those writes, or it would count the pods it just made
// as missing and make them again. Each key records creations still to be observed and the pods whose
// deletion is still to be observed; a record older than the TTL is trusted no longer (a watch event
// may have been lost), so the controller can never wedge.

export interface ExpectationsOptions {
  readonly ttlMs?: number;
  readonly now?: () => number;
}

interface Record {
  adds: number;
  readonly deletes: Set<string>;
  readonly setAt: number;
}

export class ControllerExpectations {
  private readonly records = new Map<string, Record>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: ExpectationsOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** True when the cache may be trusted for this key: nothing outstanding, or the record expired. */
  satisfied(key: string): boolean {
    const record = this.records.get(key);
    if (!record) return true;
    if (record.adds <= 0 && record.deletes.size === 0) return true;
    return this.now() - record.setAt > this.ttlMs;
  }

  expectCreations(key: string, count: number): void {
    this.records.set(key, { adds: count, deletes: new Set(), setAt: this.now() });
  }

  /** Pod keys ("namespace/name") about to be deleted. */
  expectDeletions(key: string, podKeys: readonly string[]): void {
    this.records.set(key, { adds: 0, deletes: new Set(podKeys), setAt: this.now() });
  }

  /** The cache saw one of our creations, or a creation failed and will never be seen. */
  creationObserved(key: string): void {
    const record = this.records.get(key);
    if (record) record.adds -= 1;
  }

  deletionObserved(key: string, podKey: string): void {
    this.records.get(key)?.deletes.delete(podKey);
  }

  forget(key: string): void {
    this.records.delete(key);
  }
}
