// A watch that outlives connections: the server closes watches after a while and networks drop, so
// the stream reconnects from the last resourceVersion it saw (objects and bookmarks alike) and the
// caller sees one uninterrupted sequence of events. Only "too old" (410 Gone) ends it for good:
// the caller must list again, as an informer does.
import type { IncomingMessage } from 'node:http';
import type { KubeObject, Status, WatchEvent, WatchEventType } from '@flotilla/api';
import { ApiError } from '../rest/api-error';
import { withQuery } from '../rest/resource-path';
import { JsonLinesDecoder } from './json-lines.decoder';

export interface WatchTransport {
  /** Opens a streaming GET; rejects with ApiError when the server answers with an error. */
  openStream(request: { readonly path: string; readonly signal?: AbortSignal }): Promise<IncomingMessage>;
}

export interface ResourceWatchOptions {
  /** The collection path, e.g. /api/v1/namespaces/default/pods. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Start after this version; without it the server starts with the current state as ADDED events. */
  readonly resourceVersion?: string;
  /** Default true: bookmarks keep the resume point fresh when nothing we watch changes. */
  readonly allowWatchBookmarks?: boolean;
  /** Asks the server to end each connection after this long; the watch then resumes transparently. */
  readonly timeoutSeconds?: number;
  readonly signal?: AbortSignal;
  /** Default true. When false, the first closed connection or network error ends the watch. */
  readonly reconnect?: boolean;
  /** Give up after this many failed connection attempts in a row (default: never). */
  readonly maxConsecutiveFailures?: number;
  /** Told about each reconnect, for logs. */
  readonly onReconnect?: (info: { readonly resourceVersion?: string; readonly error?: unknown }) => void;
}

const WATCH_EVENT_TYPES: readonly WatchEventType[] = ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'];
const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 5_000;
const MIN_HEALTHY_CONNECTION_MS = 1_000;

/**
 * Yields events until the signal aborts or the consumer stops iterating. Throws ApiError for a 410
 * Gone (the resume point was compacted away) and for errors a retry cannot fix (401, 403, 404...).
 */
export async function* watchResource<T extends KubeObject = KubeObject>(
  transport: WatchTransport,
  options: ResourceWatchOptions,
): AsyncGenerator<WatchEvent<T>, void, undefined> {
  const reconnect = options.reconnect ?? true;
  const maxFailures = options.maxConsecutiveFailures ?? Number.POSITIVE_INFINITY;
  let resourceVersion = options.resourceVersion;
  let failures = 0;
  let connected = false;

  while (!options.signal?.aborted) {
    if (connected) options.onReconnect?.({ resourceVersion });
    let response: IncomingMessage;
    try {
      response = await transport.openStream({
        path: withQuery(options.path, {
          watch: 1,
          resourceVersion,
          allowWatchBookmarks: options.allowWatchBookmarks ?? true,
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          timeoutSeconds: options.timeoutSeconds,
        }),
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) return;
      if (!reconnect || !isRetryable(error) || ++failures >= maxFailures) throw error;
      options.onReconnect?.({ resourceVersion, error });
      await sleep(backoffMs(failures), options.signal);
      continue;
    }
    connected = true;
    failures = 0;
    const openedAt = Date.now();

    const decoder = new JsonLinesDecoder();
    try {
      for await (const chunk of response) {
        for (const value of decoder.push(chunk as Buffer)) {
          const event = toWatchEvent<T>(value);
          resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
          yield event;
        }
      }
      for (const value of decoder.end()) {
        const event = toWatchEvent<T>(value);
        resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
        yield event;
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      if (!reconnect || !isRetryable(error)) throw error;
      // The connection broke mid-stream: resume from the last version we handed out.
      options.onReconnect?.({ resourceVersion, error });
      await sleep(backoffMs(1), options.signal);
      continue;
    } finally {
      response.destroy();
    }
    if (!reconnect) return;
    // A server that ends watches as soon as they open must not turn this into a busy loop.
    if (Date.now() - openedAt < MIN_HEALTHY_CONNECTION_MS) await sleep(FIRST_RETRY_MS, options.signal);
  }
}

function toWatchEvent<T extends KubeObject>(value: unknown): WatchEvent<T> {
  if (typeof value !== 'object' || value === null) {
    throw new Error(`the watch stream sent something that is not an event: ${JSON.stringify(value)}`);
  }
  const { type, object } = value as { type?: unknown; object?: unknown };
  if (typeof type !== 'string' || !WATCH_EVENT_TYPES.includes(type as WatchEventType)) {
    throw new Error(`the watch stream sent an event of unknown type ${JSON.stringify(type)}`);
  }
  if (type === 'ERROR') throw new ApiError(object as Status);
  if (typeof object !== 'object' || object === null || typeof (object as KubeObject).metadata !== 'object') {
    throw new Error(`the watch stream sent a ${type} event without an object`);
  }
  return { type: type as WatchEventType, object: object as T };
}

function isRetryable(error: unknown): boolean {
  if (error instanceof ApiError) return error.code >= 500 || error.code === 429;
  // Malformed data is a bug on one side or the other; retrying would repeat it.
  return (
    !(error instanceof SyntaxError) &&
    !(error instanceof Error && error.message.startsWith('the watch stream'))
  );
}

function backoffMs(failures: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
