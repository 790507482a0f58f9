// The garbage collector, in the Kubernetes controller style: informers on every resource keep an
// index of objects by uid and of dependents by owner uid; handlers only enqueue keys; reconcile(key)
// re-reads the caches and acts on what it finds, so a missed event costs a resync, not correctness.
//  - a dependent whose owners are all gone is deleted; one that lost some owners keeps the rest;
//  - an owner deleted with propagationPolicy Orphan (finalizer "orphan") has itself removed from its
//    dependents, then the finalizer; with Foreground ("foregroundDeletion") its dependents are
//    deleted first and the finalizer removed once none remain.
// Absences seen in the caches are confirmed with a read from the API before anything is deleted.
import {
  RESOURCE_TYPES,
  apiVersionOf,
  resourceTypeForKind,
  type KubeObject,
  type OwnerReference,
  type ResourceType,
} from '@flotilla/api';
import { createInformer, isConflict, isNotFound, type Informer, type RestClient } from '@flotilla/client';
import { KeyedWorkQueue } from '@flotilla/queue';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER, dependentAction, ownerAction } from './ownership.util';

export interface GarbageCollectorOptions {
  client: RestClient;
  redisUrl: string;
  queueName?: string;
  resyncIntervalMs?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface RunningGarbageCollector {
  ready: Promise<void>;
  stop(): Promise<void>;
}

interface ObjectRef {
  type: ResourceType;
  namespace: string;
  name: string;
}

/** Queue keys: "<apiVersion>|<kind>|<namespace>|<name>" ("" namespace for cluster-scoped objects). */
function keyOf(type: ResourceType, object: KubeObject): string {
  return [apiVersionOf(type), type.kind, object.metadata?.namespace ?? '', object.metadata?.name ?? ''].join(
    '|',
  );
}

function parseKey(key: string): ObjectRef | undefined {
  const [apiVersion = '', kind = '', namespace = '', name = ''] = key.split('|');
  const type = resourceTypeForKind(apiVersion, kind);
  return type ? { type, namespace, name } : undefined;
}

function cacheKey(ref: ObjectRef): string {
  return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
}

export function startGarbageCollector(options: GarbageCollectorOptions): RunningGarbageCollector {
  const { client } = options;
  const log = options.log ?? (() => undefined);
  // Events own nothing and are owned by nothing; everything else can be either.
  const types = RESOURCE_TYPES.filter((type) => type.kind !== 'Event');
  const informers = new Map<ResourceType, Informer<KubeObject>>();
  const byUid = new Map<string, { type: ResourceType; object: KubeObject }>();
  const dependentsOf = new Map<string, Set<string>>();

  const queue = new KeyedWorkQueue({
    name: options.queueName ?? 'garbage-collector',
    redisUrl: options.redisUrl,
    resync: {
      intervalMs: options.resyncIntervalMs ?? 60_000,
      keys: () =>
        Promise.resolve(
          [...informers.entries()].flatMap(([type, informer]) =>
            informer
              .list()
              .filter(
                (object) =>
                  (object.metadata?.ownerReferences ?? []).length > 0 || object.metadata?.deletionTimestamp,
              )
              .map((object) => keyOf(type, object)),
          ),
        ),
    },
    onError: (key, error) =>
      log('garbage collection failed; retrying', { object: key, error: String(error) }),
  });
  const enqueue = (key: string): void => {
    queue.add(key).catch((error: unknown) => log('enqueue failed', { object: key, error: String(error) }));
  };
  const enqueueDependents = (uid: string | undefined): void => {
    for (const key of dependentsOf.get(uid ?? '') ?? []) enqueue(key);
  };

  const index = (type: ResourceType, object: KubeObject): void => {
    const uid = object.metadata?.uid;
    if (uid) byUid.set(uid, { type, object });
    for (const owner of object.metadata?.ownerReferences ?? []) {
      const set = dependentsOf.get(owner.uid) ?? new Set<string>();
      set.add(keyOf(type, object));
      dependentsOf.set(owner.uid, set);
    }
  };
  const unindex = (type: ResourceType, object: KubeObject): void => {
    const uid = object.metadata?.uid;
    if (uid && byUid.get(uid)?.object.metadata?.name === object.metadata?.name) byUid.delete(uid);
    for (const owner of object.metadata?.ownerReferences ?? [])
      dependentsOf.get(owner.uid)?.delete(keyOf(type, object));
  };

  for (const type of types) {
    const informer = createInformer<KubeObject>({ client, resource: type, resyncPeriodMs: 0 });
    informer.addEventHandler({
      onAdd: (object) => {
        index(type, object);
        enqueue(keyOf(type, object));
      },
      onUpdate: (previous, current) => {
        unindex(type, previous);
        index(type, current);
        enqueue(keyOf(type, current));
      },
      onDelete: (object) => {
        unindex(type, object);
        // Its dependents may have lost their last owner…
        enqueueDependents(object.metadata?.uid);
        // …and an owner deleting in the foreground may have been waiting for it.
        for (const owner of object.metadata?.ownerReferences ?? []) {
          const entry = byUid.get(owner.uid);
          if (entry) enqueue(keyOf(entry.type, entry.object));
        }
      },
    });
    informers.set(type, informer);
  }

  /** Confirms with the API whether the owner a reference names still exists with that uid. */
  async function ownerLives(reference: OwnerReference, namespace: string): Promise<boolean> {
    const type = resourceTypeForKind(reference.apiVersion, reference.kind);
    // An owner of a kind we do not serve cannot be checked: keep the dependent, as Kubernetes does.
    if (!type) return true;
    try {
      const owner = await client.get(type, reference.name, type.namespaced ? { namespace } : {});
      return owner.metadata?.uid === reference.uid;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async function collectDependent(ref: ObjectRef, object: KubeObject): Promise<void> {
    const decision = dependentAction(object, (reference) => byUid.has(reference.uid));
    if (decision.kind === 'keep') return;
    const namespace = object.metadata?.namespace ?? '';
    const owners = object.metadata?.ownerReferences ?? [];
    const living: OwnerReference[] = [];
    for (const owner of owners) if (await ownerLives(owner, namespace)) living.push(owner);
    if (living.length === owners.length) return;
    if (living.length === 0) {
      log('deleting an object whose owners are gone', { object: `${ref.type.plural}/${cacheKey(ref)}` });
      await client
        .delete(ref.type, ref.name, { ...(namespace ? { namespace } : {}), propagationPolicy: 'Background' })
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
      return;
    }
    await client.update(
      ref.type,
      { ...object, metadata: { ...object.metadata, ownerReferences: living } },
      namespace ? { namespace } : {},
    );
  }

  async function removeFinalizer(ref: ObjectRef, object: KubeObject, finalizer: string): Promise<void> {
    const finalizers = (object.metadata?.finalizers ?? []).filter((name) => name !== finalizer);
    await client.update(
      ref.type,
      { ...object, metadata: { ...object.metadata, finalizers } },
      ref.namespace ? { namespace: ref.namespace } : {},
    );
  }

  async function finishOwner(ref: ObjectRef, object: KubeObject): Promise<void> {
    const action = ownerAction(object);
    if (action.kind === 'none') return;
    const uid = object.metadata?.uid ?? '';
    const dependents = [...(dependentsOf.get(uid) ?? [])]
      .map(parseKey)
      .filter((dependent): dependent is ObjectRef => dependent !== undefined)
      .map((dependent) => ({ dependent, live: informers.get(dependent.type)?.get(cacheKey(dependent)) }))
      .filter((entry): entry is { dependent: ObjectRef; live: KubeObject } => entry.live !== undefined);
    if (action.kind === 'orphan') {
      for (const { dependent, live } of dependents) {
        const ownerReferences = (live.metadata?.ownerReferences ?? []).filter((owner) => owner.uid !== uid);
        await client.update(
          dependent.type,
          { ...live, metadata: { ...live.metadata, ownerReferences } },
          dependent.namespace ? { namespace: dependent.namespace } : {},
        );
      }
      await removeFinalizer(ref, object, ORPHAN_FINALIZER);
      return;
    }
    if (dependents.length > 0) {
      for (const { dependent, live } of dependents) {
        if (live.metadata?.deletionTimestamp) continue;
        await client
          .delete(dependent.type, dependent.name, {
            ...(dependent.namespace ? { namespace: dependent.namespace } : {}),
            propagationPolicy: 'Foreground',
          })
          .catch((error: unknown) => {
            if (!isNotFound(error)) throw error;
          });
      }
      // Come back when they are gone (their deletion also enqueues this owner through the index).
      throw new Error(
        `waiting for ${dependents.length} dependents of ${ref.type.plural}/${cacheKey(ref)} to be deleted`,
      );
    }
    await removeFinalizer(ref, object, FOREGROUND_FINALIZER);
  }

  async function reconcile(key: string): Promise<void> {
    const ref = parseKey(key);
    if (!ref) return;
    const object = informers.get(ref.type)?.get(cacheKey(ref));
    if (!object) return;
    try {
      await finishOwner(ref, object);
      await collectDependent(ref, object);
    } catch (error) {
      // A stale write: the next attempt reads the newer object.
      if (isConflict(error)) throw new Error(`conflict on ${key}; retrying`);
      throw error;
    }
  }

  for (const informer of informers.values()) informer.start();
  const ready = Promise.all([...informers.values()].map((informer) => informer.waitForSync())).then(() => {
    queue.process(reconcile);
  });
  return {
    ready,
    async stop() {
      for (const informer of informers.values()) informer.stop();
      await queue.close();
    },
  };
}
