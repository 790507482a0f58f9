// Ownership as Kubernetes' ControllerRefManager decides it: an object with a controller reference
// belongs to that controller alone; an orphan is adopted by a live controller whose selector matches
// it; an owned object that no longer matches is released. A controller being deleted adopts nothing
// and releases nothing (its dependents are the garbage collector's business then).
import type { KubeObject, OwnerReference } from '@flotilla/api';

export type ClaimAction = 'keep' | 'adopt' | 'release' | 'ignore';

export interface ClaimInput {
  readonly object: KubeObject;
  readonly ownerUid: string;
  readonly ownerDeleting: boolean;
  /** Whether the owner's selector matches the object's labels. */
  readonly matches: boolean;
}

export function controllerRef(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((owner) => owner.controller === true);
}

export function claimAction(input: ClaimInput): ClaimAction {
  const ref = controllerRef(input.object);
  if (ref) {
    if (ref.uid !== input.ownerUid) return 'ignore';
    if (input.matches) return 'keep';
    return input.ownerDeleting ? 'keep' : 'release';
  }
  if (input.ownerDeleting || !input.matches) return 'ignore';
  // An object on its way out is not worth adopting.
  if (input.object.metadata.deletionTimestamp !== undefined) return 'ignore';
  return 'adopt';
}

export interface OwnerIdentity {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

/** The controller reference a workload sets on what it creates or adopts. */
export function controllerReferenceTo(owner: OwnerIdentity): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.name,
    uid: owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
