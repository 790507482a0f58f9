// GET, LIST and WATCH. Following Kubernetes' resourceVersion semantics: no resourceVersion means
// "the latest" and reads etcd; "0" means "any" and reads the watch cache; N means "not older than N"
// and reads the cache once it has caught up. Watches are always served by the cache.
import {
  apiVersionOf,
  storageKey,
  storagePrefix,
  type KubeList,
  type KubeObject,
  type WatchEvent,
} from '@flotilla/api';
import { StoreError, type CacheWatch } from '@flotilla/store';
import { ApiError, apiErrors } from '../http/api-error';
import { storeErrorToApi } from './store-errors';
import { matchesSelectors, type ReadOptions } from './request-options';
import type { ResourceStorage } from './resource-storage';
import type { ResourceTarget } from './resource-path';

/** How long a read at a given revision waits for the cache before answering from etcd. */
const CACHE_CATCH_UP_MS = 3000;

/** Objects leave the server with their type set, whatever is stored. */
export function withTypeMeta(target: Pick<ResourceTarget, 'type'>, object: KubeObject): KubeObject {
  return { ...object, apiVersion: apiVersionOf(target.type), kind: target.type.kind };
}

export class ResourceReads {
  constructor(private readonly storage: ResourceStorage) {}

  async get(target: ResourceTarget, options: Pick<ReadOptions, 'resourceVersion'>): Promise<KubeObject> {
    const name = target.name ?? '';
    const key = storageKey(target.type, target.namespace, name);
    let object: KubeObject | undefined;
    const cache = this.storage.cache(target.type);
    if (options.resourceVersion !== undefined && cache.ready) {
      await cache.waitForRevision(options.resourceVersion, CACHE_CATCH_UP_MS);
      object = cache.get(key);
    } else {
      object = await this.storage.store.get(key).catch((error: unknown) => {
        throw storeErrorToApi(error, target);
      });
    }
    if (!object) throw apiErrors.notFound(target.type, name);
    return withTypeMeta(target, object);
  }

  async list(target: ResourceTarget, options: ReadOptions): Promise<KubeList> {
    const prefix = storagePrefix(target.type, target.namespace);
    const fromCache =
      options.resourceVersion !== undefined && !options.exact && !options.continueToken && !options.limit;
    const cache = this.storage.cache(target.type);
    let items: KubeObject[];
    let revision: number;
    let continueToken: string | undefined;
    let remaining: number | undefined;
    if (fromCache && cache.ready) {
      await cache.waitForRevision(options.resourceVersion ?? 0, CACHE_CATCH_UP_MS);
      const listed = cache.list({ keyPrefix: prefix, filter: (object) => matchesSelectors(object, options) });
      items = listed.items;
      revision = listed.revision;
    } else {
      // Page through etcd until the page is full of matching items, as Kubernetes does with selectors.
      items = [];
      let token = options.continueToken;
      revision = options.exact ? (options.resourceVersion ?? 0) : 0;
      for (;;) {
        const page = await this.storage.store
          .list(prefix, {
            ...(options.limit ? { limit: options.limit - items.length } : {}),
            ...(token ? { continue: token } : {}),
            ...(revision ? { revision } : {}),
          })
          .catch((error: unknown) => {
            throw storeErrorToApi(error, target);
          });
        revision = page.revision;
        items.push(...page.items.filter((object) => matchesSelectors(object, options)));
        token = page.continue;
        remaining = page.remainingItemCount;
        if (!token || !options.limit || items.length >= options.limit) break;
      }
      continueToken = token;
    }
    const metadata: KubeList['metadata'] = { resourceVersion: String(revision) };
    if (continueToken) {
      metadata.continue = continueToken;
      if (remaining !== undefined && options.labels.empty && options.fields.empty) {
        metadata.remainingItemCount = remaining;
      }
    }
    return {
      apiVersion: apiVersionOf(target.type),
      kind: target.type.listKind,
      metadata,
      items: items.map((item) => withTypeMeta(target, item)),
    };
  }

  /**
   * Starts a watch that calls `send` for each event. Resolves with a handle once the initial events
   * are sent; an invalid or compacted resourceVersion is reported as an ERROR event carrying a 410
   * Status, as kube-apiserver does, so clients relist.
   */
  async watch(
    target: ResourceTarget,
    options: ReadOptions,
    sink: { send: (event: WatchEvent, source?: KubeObject) => void; end: () => void },
  ): Promise<CacheWatch> {
    const cache = this.storage.cache(target.type);
    const keyPrefix = target.name
      ? storageKey(target.type, target.namespace, target.name)
      : storagePrefix(target.type, target.namespace);
    const byName = (object: KubeObject): boolean => !target.name || object.metadata?.name === target.name;
    // "0" and unset both start with the current state; N resumes after N.
    const from = options.resourceVersion ? options.resourceVersion : undefined;
    // A selector that requires the cache's indexed field (a node's own pods) lets the cache offer
    // this watcher only the events of that value.
    const trigger = options.fields.requirements.find(
      (requirement) => requirement.equals && requirement.field === cache.triggerField,
    );
    try {
      return await cache.watch({
        ...(from !== undefined ? { fromRevision: from } : {}),
        ...(trigger ? { triggerValue: trigger.value } : {}),
        keyPrefix,
        filter: (object) => byName(object) && matchesSelectors(object, options),
        onEvent: (event) =>
          sink.send({ type: event.type, object: withTypeMeta(target, event.object) }, event.object),
        onClose: (reason) => {
          if (reason.code === 'Gone') sink.send(errorEvent(storeErrorToApi(reason, target)));
          sink.end();
        },
      });
    } catch (error) {
      if (error instanceof StoreError && error.code === 'Gone') {
        sink.send(
          errorEvent(apiErrors.gone(`too old resource version: ${from ?? 0} (${cache.windowStart})`)),
        );
        sink.end();
        return { close: () => undefined, revision: from ?? 0 };
      }
      throw storeErrorToApi(error, target);
    }
  }

  /** The revision a bookmark may carry: everything up to it has been delivered. */
  cacheRevision(target: ResourceTarget): number {
    return this.storage.cache(target.type).revision;
  }
}

function errorEvent(error: ApiError): WatchEvent {
  return { type: 'ERROR', object: error.status as unknown as KubeObject };
}
