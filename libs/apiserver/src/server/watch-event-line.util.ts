// The JSON line of a watch event, encoded once per watch cache event for all HTTP watchers it goes
// to: with the scheduler, the controllers and a bench all watching pods, each event was serialized
// again per watcher. The cache offers one event to all its watchers in one synchronous pass, so the
// last encoding is all there is to share; filtering stays per watcher (only the bytes are shared).
import type { KubeObject, WatchEvent } from '@flotilla/api';

interface Encoded {
  source: KubeObject;
  apiVersion: unknown;
  kind: unknown;
  json: string;
}

let last: Encoded | undefined;

/**
 * `JSON.stringify(event) + '\n'`. With `source` (the cache's object that event.object is a typed
 * copy of; cache objects are never modified), the object's JSON is reused while the same source
 * and type meta come again, whatever the event's type is for this watcher.
 */
export function watchEventLine(event: WatchEvent, source?: KubeObject): string {
  if (source === undefined) return JSON.stringify(event) + '\n';
  const object = event.object;
  if (last?.source !== source || last.apiVersion !== object.apiVersion || last.kind !== object.kind) {
    last = { source, apiVersion: object.apiVersion, kind: object.kind, json: JSON.stringify(object) };
  }
  return `{"type":${JSON.stringify(event.type)},"object":${last.json}}\n`;
}
