// Streams a watch to an HTTP response as newline-delimited JSON, as kube-apiserver does, with
// bookmarks, a server-side timeout, and protection against clients that stop reading.
import type { ServerResponse } from 'node:http';
import { apiVersionOf, type KubeObject, type WatchEvent } from '@flotilla/api';
import type { ResourceHandler } from '../resources/resource-handler';
import type { ReadOptions } from '../resources/request-options';
import type { ResourceTarget } from '../resources/resource-path';
import { watchEventLine } from './watch-event-line.util';

/** A client that has this much unread output is dropped; it re-watches from its last revision. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
const BOOKMARK_INTERVAL_MS = 10_000;
/** Kubernetes ends watches after 30–60 minutes so that load spreads across apiservers. */
const DEFAULT_TIMEOUT_MS = 30 * 60_000;

export interface WatchStreamOptions {
  handler: ResourceHandler;
  target: ResourceTarget;
  options: ReadOptions;
  response: ServerResponse;
  onClosed: () => void;
  /** Renders each object before it is sent (server-side printing for `kubectl get -w`). */
  render?: (object: KubeObject) => object;
}

export async function streamWatch({
  handler,
  target,
  options,
  response,
  onClosed,
  render,
}: WatchStreamOptions): Promise<void> {
  let ended = false;
  const timers: NodeJS.Timeout[] = [];
  const watch: { handle?: { close(): void; readonly revision: number } } = {};
  const end = (): void => {
    if (ended) return;
    ended = true;
    timers.forEach((timer) => clearTimeout(timer));
    watch.handle?.close();
    if (!response.writableEnded) response.end();
    onClosed();
  };
  const send = (event: WatchEvent, source?: KubeObject): void => {
    if (ended) return;
    // A rendered object (a Table row) is this watcher's own; the plain one is every watcher's.
    const line =
      render && event.type !== 'ERROR' && event.type !== 'BOOKMARK'
        ? JSON.stringify({ ...event, object: render(event.object) }) + '\n'
        : watchEventLine(event, source);
    response.write(line);
    if (response.writableLength > MAX_BUFFERED_BYTES) end();
  };
  response.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  response.on('close', end);
  const handle = await handler.watch(target, options, { send, end });
  watch.handle = handle;
  if (ended) {
    handle.close();
    return;
  }
  const timeoutMs =
    options.timeoutSeconds !== undefined
      ? options.timeoutSeconds * 1000
      : DEFAULT_TIMEOUT_MS * (1 + Math.random());
  timers.push(setTimeout(end, timeoutMs));
  if (options.allowBookmarks) {
    const bookmark = (): void => {
      send({
        type: 'BOOKMARK',
        object: {
          apiVersion: apiVersionOf(target.type),
          kind: target.type.kind,
          metadata: { resourceVersion: String(handle.revision) },
        },
      });
    };
    const interval = setInterval(bookmark, BOOKMARK_INTERVAL_MS);
    timers.push(interval);
  }
}
