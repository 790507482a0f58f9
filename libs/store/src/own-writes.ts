// The values this process wrote to etcd, kept until their watch event comes back: for its own
// writes the store already holds the object it serialized, so a watch event whose bytes are
// exactly those bytes needs no JSON.parse. The event itself still comes from etcd's watch, in
// order; only the decoding of its value is skipped, and only after the bytes compare equal.
import type { KubeObject, ObjectMeta } from '@flotilla/api';

export interface OwnWritesOptions {
  /** Most writes held at once; the oldest goes first. */
  maxEntries?: number;
  /** A write whose event has not come back by then is dropped (a watch may not cover it). */
  maxAgeMs?: number;
  /** Milliseconds of a monotonic clock; a parameter so the spec can age entries. */
  now?: () => number;
}

interface OwnWrite {
  key: string;
  value: Buffer;
  prepared: PreparedWrite;
  writtenAt: number;
}

/** Thrown inside jsonCopy when a value would not come back from JSON.parse as it is. */
class NotPlainJson extends Error {}

/**
 * A deep copy of a value as JSON.parse(JSON.stringify(value)) would give it, or NotPlainJson
 * thrown where the two could differ (class instances, toJSON, non-finite numbers, symbols or
 * functions in arrays), so a write we cannot copy exactly is simply not remembered.
 */
function jsonCopy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new NotPlainJson();
      // JSON writes -0 as 0.
      return value === 0 ? 0 : value;
    }
    if (typeof value === 'string' || typeof value === 'boolean') return value;
    throw new NotPlainJson();
  }
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype || Object.hasOwn(value, 'toJSON')) {
      throw new NotPlainJson();
    }
    const copy: unknown[] = new Array<unknown>(value.length);
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') {
        throw new NotPlainJson();
      }
      copy[index] = jsonCopy(item);
    }
    return copy;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype || Object.hasOwn(value, 'toJSON')) {
    throw new NotPlainJson();
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const member: unknown = (value as Record<string, unknown>)[key];
    // JSON.stringify leaves these members out.
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    copy[key] = jsonCopy(member);
  }
  return copy;
}

/**
 * A copy of an object about to be written, as a watch event of that write decodes it save for
 * the revision: the store writes objects without resourceVersion and the decoder appends the
 * event's revision as metadata's last member (see OwnWrites.take). Undefined when the object
 * is not plain JSON.
 */
interface PreparedWrite {
  object: KubeObject;
  metadata: Omit<ObjectMeta, 'resourceVersion'>;
}

function prepareCopy(object: KubeObject): PreparedWrite | undefined {
  try {
    const copy = jsonCopy(object) as KubeObject;
    const stored: unknown = copy.metadata;
    // Without metadata the store writes an empty one where the key stood; anything but an object
    // the decoder would spread differently: both are left to JSON.parse.
    if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return undefined;
    const { resourceVersion: _stored, ...metadata } = stored as ObjectMeta;
    return { object: copy, metadata };
  } catch (error) {
    if (error instanceof NotPlainJson) return undefined;
    throw error;
  }
}

export class OwnWrites {
  /**
   * By key, its writes in the order sent. Held from before the txn is sent: etcd's watch stream
   * may deliver the event before our client reads the txn's answer, and the next write of a key
   * often goes out before the previous one's event came back.
   */
  private readonly writes = new Map<string, OwnWrite[]>();
  private held = 0;
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: OwnWritesOptions = {}) {
    this.maxEntries = options.maxEntries ?? 4096;
    this.maxAgeMs = options.maxAgeMs ?? 10_000;
    this.now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.held;
  }

  /**
   * A write about to be sent: `value` is exactly the bytes serialized from `object`, which is
   * copied now, in the same synchronous step, so nothing the writer does to it later reaches the
   * copy. Returns the entry to pass to forget when the write fails.
   */
  remember(options: { key: string; value: Buffer; object: KubeObject }): object | undefined {
    const writtenAt = this.now();
    this.expire(writtenAt);
    const prepared = prepareCopy(options.object);
    if (!prepared) return undefined;
    const write: OwnWrite = { key: options.key, value: options.value, prepared, writtenAt };
    const list = this.writes.get(options.key);
    if (list) list.push(write);
    else this.writes.set(options.key, [write]);
    this.held += 1;
    return write;
  }

  /** A write etcd refused or did not answer: its bytes will not come back. */
  forget(key: string, entry: object | undefined): void {
    const list = this.writes.get(key);
    const index = list?.findIndex((write) => write === entry) ?? -1;
    if (!list || index < 0) return;
    list.splice(index, 1);
    this.held -= 1;
    if (list.length === 0) this.writes.delete(key);
  }

  /**
   * The object a watch event of `key` at `revision` with stored bytes `value` decodes to, when
   * those bytes are exactly what this process serialized for that key: decoding depends only on
   * the bytes and the revision, so the copy plus the revision is what JSON.parse would give.
   * Handed out once; the key's earlier writes go with it, as their events came before.
   */
  take(key: string, revision: number, value: Buffer): KubeObject | undefined {
    const list = this.writes.get(key);
    if (!list) return undefined;
    const index = list.findIndex((write) => write.value.equals(value));
    const write = list[index];
    if (!write) return undefined;
    list.splice(0, index + 1);
    this.held -= index + 1;
    if (list.length === 0) this.writes.delete(key);
    const { object, metadata } = write.prepared;
    object.metadata = { ...metadata, resourceVersion: String(revision) };
    return object;
  }

  /** Drops from the keys written first: the bound strictly, the age as far as the oldest go. */
  private expire(now: number): void {
    for (const [key, list] of this.writes) {
      for (let head = list[0]; head !== undefined; head = list[0]) {
        if (this.held < this.maxEntries && now - head.writtenAt <= this.maxAgeMs) return;
        list.shift();
        this.held -= 1;
      }
      this.writes.delete(key);
    }
  }
}
