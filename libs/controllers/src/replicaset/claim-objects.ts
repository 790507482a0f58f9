// Adoption and release writes for a workload controller (ReplicaSet → pods, Deployment → ReplicaSets):
// decides with claimAction, and before adopting anything confirms with a fresh read that the owner
// still exists and is not being deleted, as Kubernetes' RecheckDeletionTimestamp does, so a stale
// cache never hands pods to an owner that is already gone.
import { apiVersionOf, type KubeObject, type ResourceType } from '@flotilla/api';
import { isNotFound, type RestClient } from '@flotilla/client';
import { claimAction, controllerRef, controllerReferenceTo, type OwnerIdentity } from './controller-ref.util';

export interface ClaimObjectsOptions<T extends KubeObject> {
  readonly client: RestClient;
  readonly type: ResourceType;
  readonly ownerType: ResourceType;
  readonly owner: KubeObject & { readonly metadata: { readonly uid?: string } };
  readonly candidates: readonly T[];
  readonly matches: (object: T) => boolean;
  readonly fieldManager: string;
}

/** The candidates the owner controls after adopting matching orphans and releasing mismatches. */
export async function claimObjects<T extends KubeObject>(options: ClaimObjectsOptions<T>): Promise<T[]> {
  const { client, type, owner } = options;
  const ownerUid = owner.metadata.uid ?? '';
  const ownerDeleting = owner.metadata.deletionTimestamp !== undefined;
  const namespace = owner.metadata.namespace;
  let adoptable: boolean | undefined;
  const canAdopt = async (): Promise<boolean> => {
    if (adoptable === undefined) {
      try {
        const fresh = await client.get(options.ownerType, owner.metadata.name ?? '', { namespace });
        adoptable = fresh.metadata.uid === ownerUid && fresh.metadata.deletionTimestamp === undefined;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        adoptable = false;
      }
    }
    return adoptable;
  };
  const identity: OwnerIdentity = {
    apiVersion: apiVersionOf(options.ownerType),
    kind: options.ownerType.kind,
    name: owner.metadata.name ?? '',
    uid: ownerUid,
  };
  const writeOwners = async (object: T, ownerReferences: unknown[]): Promise<T | undefined> => {
    try {
      return await client.patch<T>(
        type,
        object.metadata.name ?? '',
        { metadata: { ownerReferences } },
        { namespace, patchType: 'merge', fieldManager: options.fieldManager },
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };

  const owned: T[] = [];
  for (const object of options.candidates) {
    const action = claimAction({ object, ownerUid, ownerDeleting, matches: options.matches(object) });
    if (action === 'keep') owned.push(object);
    if (action === 'adopt' && (await canAdopt())) {
      // Another controller may have claimed it since our cache saw it; the patch keeps theirs.
      if (controllerRef(object)) continue;
      const others = object.metadata.ownerReferences ?? [];
      const adopted = await writeOwners(object, [...others, controllerReferenceTo(identity)]);
      if (adopted) owned.push(adopted);
    }
    if (action === 'release') {
      const others = (object.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== ownerUid);
      await writeOwners(object, others);
    }
  }
  return owned;
}
