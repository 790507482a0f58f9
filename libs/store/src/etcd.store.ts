// Store on etcd v3: reads and writes are unary KV calls over our own HTTP/2 gRPC client (one per
// apiserver request, so their cost matters), watches go through the etcd3 package. Every write is
// one transaction that compares the key's mod revision, which is exactly Kubernetes' optimistic
// concurrency: resourceVersion is the mod revision, so a stale write fails instead of overwriting.
import type { KubeObject } from '@flotilla/api';
import { Etcd3 } from 'etcd3';
import type { IKeyValue, Watcher } from 'etcd3';
import { decodeContinue, encodeContinue } from './continue-token';
import { EtcdKvClient } from './etcd-kv.client';
import {
  CompareResult,
  CompareTarget,
  decodeCompactionResponse,
  decodeRangeResponse,
  decodeTxnResponse,
  encodeCompactionRequest,
  encodeRangeRequest,
  encodeTxnRequest,
  encodeTxnRequestFramed,
  type KeyValue,
  type ResponseOp,
} from './etcd-protobuf.util';
import {
  StoreError,
  type ListOptions,
  type ListResult,
  type Store,
  type StoreEvent,
  type StoreWatch,
  type WatchOptions,
} from './store.types';

export interface EtcdStoreOptions {
  /** etcd client URLs, e.g. ["http://127.0.0.1:2379"]. */
  endpoints: string[];
  /** Largest value we send; etcd's default request limit is 1.5 MiB and a request carries overhead. */
  maxValueBytes?: number;
  /** How long a single etcd call may take before it fails as Unavailable. */
  callTimeoutMs?: number;
}

export const DEFAULT_MAX_VALUE_BYTES = 1.5 * 1024 * 1024 - 8 * 1024;

/** The smallest key greater than every key with this prefix (etcd's prefix range end). */
export function prefixRangeEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let index = end.length - 1; index >= 0; index--) {
    const byte = end[index] ?? 0;
    if (byte < 0xff) {
      end[index] = byte + 1;
      return end.subarray(0, index + 1);
    }
  }
  return Buffer.from([0]);
}

/** A key-value from either client: ours (KeyValue) for reads and writes, etcd3's for watch events. */
function decode(kv: { key: Buffer; value: Buffer }, revision: number): KubeObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(kv.value.toString('utf8'));
  } catch {
    throw new StoreError(
      'Unavailable',
      `stored value at ${kv.key.toString()} is not JSON; the key is corrupt`,
    );
  }
  const object = parsed as KubeObject;
  object.metadata = { ...(object.metadata ?? {}), resourceVersion: String(revision) };
  return object;
}

/** Kubernetes stores objects without resourceVersion: the revision is the key's own. */
function encode(object: KubeObject): string {
  // A create's object has none (and JSON leaves an undefined one out): no copies to take it off.
  if (object.metadata !== undefined && object.metadata.resourceVersion === undefined) {
    return JSON.stringify(object);
  }
  const { resourceVersion: _ignored, ...metadata } = object.metadata ?? {};
  return JSON.stringify({ ...object, metadata });
}

/**
 * A create's value for etcd, and where the closing brace of its metadata sits in it (-1 when the
 * object is not a plain one we can splice into), so the answer's JSON, which is the same object
 * with resourceVersion appended to its metadata, needs no second serialization of the object.
 */
interface CreateEncoding {
  value: string;
  metadataEnd: number;
  metadataEmpty: boolean;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype &&
    !Object.hasOwn(value, 'toJSON')
  );
}

function encodeCreate(object: KubeObject): CreateEncoding {
  const metadata: unknown = object.metadata;
  if (!isPlainRecord(object) || !isPlainRecord(metadata) || Object.hasOwn(metadata, 'resourceVersion')) {
    return { value: encode(object), metadataEnd: -1, metadataEmpty: false };
  }
  // Member by member, exactly as JSON.stringify walks a plain object (own enumerable keys in
  // order, undefined and function values left out), noting where metadata ends.
  let value = '';
  let metadataEnd = -1;
  let metadataEmpty = false;
  for (const key of Object.keys(object)) {
    const json = JSON.stringify((object as Record<string, unknown>)[key]) as string | undefined;
    if (json === undefined) continue;
    value += (value === '' ? '{' : ',') + JSON.stringify(key) + ':' + json;
    if (key === 'metadata') {
      metadataEnd = value.length - 1;
      metadataEmpty = json === '{}';
    }
  }
  return { value: value === '' ? '{}' : value + '}', metadataEnd, metadataEmpty };
}

/** JSON of objects create() returned, as JSON.stringify would write them; see createdJson. */
const createdJsonOf = new WeakMap<KubeObject, string>();

/**
 * The JSON of an object EtcdStore.create returned, so an apiserver answers with the text it
 * already serialized for etcd. Only valid while the object is unchanged: read it right away.
 */
export function createdJson(object: KubeObject): string | undefined {
  return createdJsonOf.get(object);
}

function translateError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/compacted/i.test(message)) {
    return new StoreError(
      'Gone',
      `${what}: the requested revision has been compacted; list again for a fresh one`,
    );
  }
  if (/too large|exceeds|ResourceExhausted/i.test(message)) {
    return new StoreError('TooLarge', `${what}: the object exceeds etcd's request size limit`);
  }
  return new StoreError('Unavailable', `${what}: etcd did not answer (${message})`);
}

function decodeKv(kv: KeyValue): KubeObject {
  return decode(kv, kv.modRevision);
}

/** See barrenBreaks in watch(). */
const MAX_BARREN_BREAKS = 5;

export class EtcdStore implements Store {
  /** Only for watches; created on the first one. */
  private watchClient: Etcd3 | undefined;
  private readonly kv: EtcdKvClient;
  private readonly endpoints: string[];
  private readonly maxValueBytes: number;
  private readonly callTimeoutMs: number;

  constructor(options: EtcdStoreOptions) {
    this.endpoints = options.endpoints;
    this.kv = new EtcdKvClient({ endpoints: options.endpoints });
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
  }

  private deadline(): { timeoutMs: number } {
    return { timeoutMs: this.callTimeoutMs };
  }

  private watches(): Etcd3 {
    this.watchClient ??= new Etcd3({
      hosts: this.endpoints,
      dialTimeout: 5000,
      // etcd sends a backlog in responses of up to 1,000 revisions, each event with its previous
      // value: several MiB for pods. grpc-js refuses a message over 4 MiB by default, the stream
      // breaks, the resume asks for the same backlog again, and the watch stalls without an error.
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
    });
    return this.watchClient;
  }

  async get(key: string): Promise<KubeObject | undefined> {
    try {
      const response = decodeRangeResponse(
        await this.kv.call('Range', encodeRangeRequest({ key: Buffer.from(key) }), this.deadline()),
      );
      const kv = response.kvs[0];
      return kv ? decodeKv(kv) : undefined;
    } catch (error) {
      throw translateError(error, `get ${key}`);
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    let revision = options.revision ?? 0;
    let start = prefix;
    if (options.continue) {
      const position = decodeContinue(options.continue);
      revision = position.revision;
      start = prefix + position.startAfterPrefix;
    }
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    try {
      const response = decodeRangeResponse(
        await this.kv.call(
          'Range',
          encodeRangeRequest({ key: Buffer.from(start), rangeEnd: prefixRangeEnd(prefix), limit, revision }),
          this.deadline(),
        ),
      );
      const readRevision = revision || response.revision;
      const items = response.kvs.map(decodeKv);
      const result: ListResult = { items, revision: readRevision };
      const last = response.kvs[response.kvs.length - 1];
      if (response.more && last) {
        // "\0" is the smallest suffix, so the next page starts right after the last key returned.
        const nextStart = last.key.toString('utf8').slice(prefix.length) + '\u0000';
        result.continue = encodeContinue({ revision: readRevision, startAfterPrefix: nextStart });
        result.remainingItemCount = Math.max(0, response.count - items.length);
      }
      return result;
    } catch (error) {
      if (options.continue && error instanceof Error && /compacted/i.test(error.message)) {
        throw new StoreError(
          'Gone',
          'The provided continue parameter is too old to display a consistent list result. ' +
            'You can start a new list without the continue parameter.',
        );
      }
      throw translateError(error, `list ${prefix}`);
    }
  }

  private checkSize(key: string, value: string): void {
    const bytes = Buffer.byteLength(value);
    if (bytes > this.maxValueBytes) {
      throw new StoreError(
        'TooLarge',
        `${key}: the object is ${bytes} bytes; etcd accepts at most ${this.maxValueBytes} bytes per object`,
      );
    }
  }

  async create(key: string, object: KubeObject): Promise<KubeObject> {
    const encoding = encodeCreate(object);
    const value = encoding.value;
    this.checkSize(key, value);
    try {
      const keyBytes = Buffer.from(key);
      const response = decodeTxnResponse(
        await this.kv.callFramed(
          'Txn',
          encodeTxnRequestFramed({
            compare: [
              { key: keyBytes, target: CompareTarget.Create, result: CompareResult.Equal, revision: 0 },
            ],
            success: [{ put: { key: keyBytes, value } }],
            failure: [],
          }),
          this.deadline(),
        ),
      );
      if (!response.succeeded) throw new StoreError('AlreadyExists', `${key} already exists`);
      const created = withRevision(object, response.revision);
      if (encoding.metadataEnd >= 0) {
        // withRevision appends resourceVersion as metadata's last member.
        const member = `"resourceVersion":"${response.revision}"`;
        createdJsonOf.set(
          created,
          value.slice(0, encoding.metadataEnd) +
            (encoding.metadataEmpty ? member : `,${member}`) +
            value.slice(encoding.metadataEnd),
        );
      }
      return created;
    } catch (error) {
      throw translateError(error, `create ${key}`);
    }
  }

  async update(key: string, object: KubeObject, expectedRevision: number): Promise<KubeObject> {
    const value = encode(object);
    this.checkSize(key, value);
    try {
      const keyBytes = Buffer.from(key);
      const response = decodeTxnResponse(
        await this.kv.call(
          'Txn',
          encodeTxnRequest({
            compare: [
              {
                key: keyBytes,
                target: CompareTarget.Mod,
                result: CompareResult.Equal,
                revision: expectedRevision,
              },
            ],
            success: [{ put: { key: keyBytes, value: Buffer.from(value) } }],
            failure: [{ range: { key: keyBytes } }],
          }),
          this.deadline(),
        ),
      );
      if (!response.succeeded) throw this.conflictOrMissing(key, firstRangeKv(response.responses));
      return withRevision(object, response.revision);
    } catch (error) {
      throw translateError(error, `update ${key}`);
    }
  }

  private conflictOrMissing(key: string, current: KeyValue | undefined): StoreError {
    if (!current) return new StoreError('NotFound', `${key} not found`);
    return new StoreError(
      'Conflict',
      'the object has been modified; please apply your changes to the latest version and try again',
      current.modRevision,
    );
  }

  async delete(key: string, expectedRevision?: number): Promise<KubeObject> {
    try {
      const keyBytes = Buffer.from(key);
      const response = decodeTxnResponse(
        await this.kv.call(
          'Txn',
          encodeTxnRequest({
            compare: [
              expectedRevision === undefined
                ? { key: keyBytes, target: CompareTarget.Create, result: CompareResult.Greater, revision: 0 }
                : {
                    key: keyBytes,
                    target: CompareTarget.Mod,
                    result: CompareResult.Equal,
                    revision: expectedRevision,
                  },
            ],
            success: [{ deleteRange: { key: keyBytes, prevKv: true } }],
            failure: [{ range: { key: keyBytes } }],
          }),
          this.deadline(),
        ),
      );
      if (!response.succeeded) throw this.conflictOrMissing(key, firstRangeKv(response.responses));
      const first = response.responses[0];
      const previous = first && 'deleteRange' in first ? first.deleteRange.prevKvs[0] : undefined;
      if (!previous) throw new StoreError('NotFound', `${key} not found`);
      return decode(previous, response.revision);
    } catch (error) {
      throw translateError(error, `delete ${key}`);
    }
  }

  async currentRevision(): Promise<number> {
    try {
      // A count-only range of one key is the cheapest linearizable read that carries the revision.
      const response = decodeRangeResponse(
        await this.kv.call(
          'Range',
          encodeRangeRequest({ key: Buffer.from('/'), countOnly: true }),
          this.deadline(),
        ),
      );
      return response.revision;
    } catch (error) {
      throw translateError(error, 'read the current revision');
    }
  }

  /** Fails with Gone when `revision` is older than etcd's compaction point. */
  private async checkNotCompacted(prefix: string, revision: number): Promise<void> {
    const current = await this.currentRevision();
    if (revision >= current) return;
    try {
      await this.kv.call(
        'Range',
        encodeRangeRequest({ key: Buffer.from(prefix), countOnly: true, revision: revision + 1 }),
        this.deadline(),
      );
    } catch (error) {
      throw translateError(error, `watch ${prefix} from revision ${revision}`);
    }
  }

  async watch(prefix: string, options: WatchOptions): Promise<StoreWatch> {
    await this.checkNotCompacted(prefix, options.fromRevision);
    let closed = false;
    let lastRevision = options.fromRevision;
    // etcd3 resumes a broken stream from the last response's header revision, which is etcd's
    // current revision, not that of the last event delivered: a watch still catching up on a
    // backlog would skip what it had not received yet. So a disconnect is handled here: the old
    // watcher goes and a new one starts right after the last event this watch delivered.
    let current: Watcher | undefined;
    let generation = 0;
    let retryTimer: NodeJS.Timeout | undefined;
    // Breaks in a row with no event delivered in between: the same failure repeating on resume
    // (a response the client refuses, say) must end the watch with an error, not stall it.
    let barrenBreaks = 0;
    const fail = (error: StoreError): void => {
      if (closed) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      void current?.cancel().catch(() => undefined);
      options.onError(error);
    };
    const subscribe = async (attempt: number): Promise<void> => {
      const mine = ++generation;
      const watcher: Watcher = await this.watches()
        .watch()
        .prefix(prefix)
        .withPreviousKV()
        .startRevision(String(lastRevision + 1))
        .create()
        .catch((error: unknown) => {
          throw translateError(error, `watch ${prefix}`);
        });
      if (closed) {
        void watcher.cancel().catch(() => undefined);
        return;
      }
      current = watcher;
      watcher.on('data', (response) => {
        if (closed || mine !== generation) return;
        for (const event of response.events) {
          const revision = Number(event.kv.mod_revision);
          // A resumed stream never repeats what was delivered; this guards the seam anyway.
          if (revision <= lastRevision) continue;
          lastRevision = revision;
          barrenBreaks = 0;
          options.onEvent(toStoreEvent(event.type, event.kv, event.prev_kv ?? undefined, revision));
        }
        if (response.events.length === 0 && options.onProgress) {
          options.onProgress(Number(response.header.revision));
        }
      });
      watcher.on('error', (error) => {
        if (mine === generation) fail(translateError(error, `watch ${prefix}`));
      });
      watcher.on('disconnected', (error: unknown) => {
        if (closed || mine !== generation) return;
        if (++barrenBreaks >= MAX_BARREN_BREAKS) {
          fail(
            new StoreError(
              'Unavailable',
              `watch ${prefix}: the etcd stream broke ${barrenBreaks} times in a row after revision ${lastRevision} without delivering an event (${String(error)})`,
            ),
          );
          return;
        }
        generation += 1;
        // Detached while etcd3's manager is idle, so its own reconnect no longer includes it.
        void watcher.cancel().catch(() => undefined);
        const resume = (nextAttempt: number): void => {
          retryTimer = setTimeout(
            () => {
              retryTimer = undefined;
              if (closed) return;
              this.checkNotCompacted(prefix, lastRevision)
                .then(() => subscribe(nextAttempt))
                .catch((error: unknown) => {
                  if (error instanceof StoreError && error.code === 'Gone') fail(error);
                  else resume(nextAttempt + 1);
                });
            },
            Math.min(5000, 100 * 2 ** Math.min(attempt + nextAttempt, 6)),
          );
          retryTimer.unref();
        };
        resume(0);
      });
    };
    await subscribe(0);
    const progressTimer = options.onProgress
      ? setInterval(() => {
          if (!closed) options.onProgress?.(lastRevision);
        }, 5000)
      : undefined;
    progressTimer?.unref();
    return {
      close: () => {
        if (progressTimer) clearInterval(progressTimer);
        if (retryTimer) clearTimeout(retryTimer);
        if (closed) return;
        closed = true;
        void current?.cancel().catch(() => undefined);
      },
    };
  }

  async compact(revision: number): Promise<void> {
    try {
      decodeCompactionResponse(
        await this.kv.call('Compact', encodeCompactionRequest({ revision, physical: true }), this.deadline()),
      );
    } catch (error) {
      throw translateError(error, `compact to ${revision}`);
    }
  }

  async close(): Promise<void> {
    this.kv.close();
    this.watchClient?.close();
  }
}

/** The key-value a failed txn's range read found (the conditional writes' failure branch). */
function firstRangeKv(responses: ResponseOp[]): KeyValue | undefined {
  const first = responses[0];
  return first && 'range' in first ? first.range.kvs[0] : undefined;
}

function withRevision(object: KubeObject, revision: number): KubeObject {
  return { ...object, metadata: { ...(object.metadata ?? {}), resourceVersion: String(revision) } };
}

function toStoreEvent(
  type: string | number,
  kv: IKeyValue,
  previousKv: IKeyValue | undefined,
  revision: number,
): StoreEvent {
  const key = kv.key.toString('utf8');
  if (type === 'Delete' || type === 1) {
    const previous = previousKv ? decode(previousKv, Number(previousKv.mod_revision)) : undefined;
    if (!previous) {
      // Without prev_kv (history compacted under us) we still know which key went away.
      return {
        type: 'DELETED',
        key,
        object: { apiVersion: '', kind: '', metadata: { resourceVersion: String(revision) } },
        revision,
      };
    }
    return { type: 'DELETED', key, object: withRevision(previous, revision), previous, revision };
  }
  const object = decode(kv, revision);
  const created = kv.create_revision === kv.mod_revision;
  if (!previousKv || created) return { type: 'ADDED', key, object, revision };
  return lazyPrevious({ type: 'MODIFIED', key, object, revision }, previousKv);
}

/**
 * A MODIFIED event whose previous value is parsed only when read: the watch cache holds that value
 * already and reads its own copy, and parsing both values of every event was most of the decoding.
 */
function lazyPrevious(event: StoreEvent, previousKv: IKeyValue): StoreEvent {
  const previousRevision = Number(previousKv.mod_revision);
  let previous: KubeObject | undefined;
  Object.defineProperty(event, 'previous', {
    enumerable: true,
    get: () => (previous ??= decode(previousKv, previousRevision)),
  });
  event.previousRevision = previousRevision;
  return event;
}
