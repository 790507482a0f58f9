// What the garbage collector decides for one object, as pure functions over what the caches hold.
//
// Worked example: ReplicaSet web-1 (uid r1) is deleted in the background. Its pods carry
// ownerReferences [{uid: r1}]. None of their owners exist any more → each pod is deleted. A pod
// with owners [{uid: r1}, {uid: r2}] where r2 still exists keeps living, with only r2 listed.
// Had web-1 been deleted with propagationPolicy Orphan, it would carry the "orphan" finalizer: the
// collector first removes r1 from every dependent, then the finalizer, and the pods stay.
import type { KubeObject, OwnerReference } from '@flotilla/api';

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

export type DependentAction =
  | { kind: 'keep' }
  | { kind: 'delete' }
  /** Some owners are gone: keep the object, listing only the owners that remain. */
  | { kind: 'drop-owners'; remaining: OwnerReference[] };

/**
 * `ownerExists(uid)` must answer from the live state (the collector confirms absences with a read
 * from the API before acting, so a cache that lags never deletes a living object's children).
 */
export function dependentAction(
  object: KubeObject,
  ownerExists: (reference: OwnerReference) => boolean,
): DependentAction {
  const owners = object.metadata?.ownerReferences ?? [];
  if (owners.length === 0 || object.metadata?.deletionTimestamp) return { kind: 'keep' };
  const remaining = owners.filter(ownerExists);
  if (remaining.length === owners.length) return { kind: 'keep' };
  if (remaining.length === 0) return { kind: 'delete' };
  return { kind: 'drop-owners', remaining };
}

export type OwnerAction =
  | { kind: 'none' }
  /** Remove this owner from its dependents, then remove the orphan finalizer. */
  | { kind: 'orphan' }
  /** Delete the dependents first; when none remain, remove the foreground finalizer. */
  | { kind: 'foreground' };

export function ownerAction(object: KubeObject): OwnerAction {
  const metadata = object.metadata ?? {};
  if (!metadata.deletionTimestamp) return { kind: 'none' };
  const finalizers = metadata.finalizers ?? [];
  if (finalizers.includes(ORPHAN_FINALIZER)) return { kind: 'orphan' };
  if (finalizers.includes(FOREGROUND_FINALIZER)) return { kind: 'foreground' };
  return { kind: 'none' };
}
