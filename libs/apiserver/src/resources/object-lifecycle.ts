// What the apiserver itself owns in an object, as Kubernetes' registry strategies do: uid,
// creationTimestamp, generation, the split between spec (main resource) and status (subresource),
// and which metadata a client may not change.
import { randomBytes, randomUUID } from 'node:crypto';
import { kubeTimestamp, type KubeObject, type ObjectMeta, type ResourceType } from '@flotilla/api';

// Kubernetes' generateName alphabet leaves out vowels and look-alikes so names never spell words.
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function generateName(prefix: string): string {
  const bytes = randomBytes(5);
  let suffix = '';
  for (const byte of bytes) suffix += NAME_ALPHABET[byte % NAME_ALPHABET.length] ?? 'x';
  // Kubernetes truncates the prefix so that the result fits in 63 characters.
  return `${prefix.slice(0, 58)}${suffix}`;
}

function hasStatusSubresource(type: ResourceType): boolean {
  return type.subresources.includes('status');
}

/** Status a newly created object starts with: clients may not create objects with a made-up status. */
function initialStatus(type: ResourceType, object: KubeObject): unknown {
  switch (type.kind) {
    case 'Pod':
      return { phase: 'Pending' };
    case 'Namespace':
      return { phase: 'Active' };
    case 'Node':
      // Node agents register with their status filled in, as kubelets do.
      return (object as { status?: unknown }).status;
    case 'Service':
      return { loadBalancer: {} };
    default:
      return {};
  }
}

export interface CreateContext {
  type: ResourceType;
  namespace: string | undefined;
  now?: Date;
}

/** Fills in server-owned metadata for a create; the caller has checked the name. */
export function prepareForCreate(object: KubeObject, context: CreateContext): KubeObject {
  const metadata: ObjectMeta = { ...(object.metadata ?? {}) };
  delete metadata.resourceVersion;
  delete metadata.deletionTimestamp;
  delete metadata.deletionGracePeriodSeconds;
  metadata.uid = randomUUID();
  metadata.creationTimestamp = kubeTimestamp(context.now);
  metadata.generation = 1;
  if (context.type.namespaced && context.namespace !== undefined) metadata.namespace = context.namespace;
  else delete metadata.namespace;
  const prepared: KubeObject = { ...object, metadata };
  if (hasStatusSubresource(context.type)) {
    const status = initialStatus(context.type, object);
    if (status === undefined) delete (prepared as { status?: unknown }).status;
    else (prepared as { status?: unknown }).status = status;
  }
  return prepared;
}

function specOf(object: KubeObject): unknown {
  const { metadata: _metadata, status: _status, ...rest } = object as KubeObject & { status?: unknown };
  return rest;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Merges a client's update of the main resource with what is stored: server-owned metadata is kept,
 * status is kept (it belongs to the status subresource), and generation moves when the spec changed.
 */
export function prepareForUpdate(updated: KubeObject, old: KubeObject, type: ResourceType): KubeObject {
  const oldMeta = old.metadata ?? {};
  const metadata: ObjectMeta = {
    ...(updated.metadata ?? {}),
    name: oldMeta.name,
    uid: oldMeta.uid,
    creationTimestamp: oldMeta.creationTimestamp,
    generation: oldMeta.generation ?? 1,
  };
  if (oldMeta.namespace !== undefined) metadata.namespace = oldMeta.namespace;
  // Deletion is started through DELETE, never by writing the timestamp.
  if (oldMeta.deletionTimestamp !== undefined) metadata.deletionTimestamp = oldMeta.deletionTimestamp;
  else delete metadata.deletionTimestamp;
  if (oldMeta.deletionGracePeriodSeconds !== undefined) {
    metadata.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
  } else delete metadata.deletionGracePeriodSeconds;
  const prepared = { ...updated, metadata } as KubeObject & { status?: unknown };
  if (hasStatusSubresource(type)) {
    const oldStatus = (old as { status?: unknown }).status;
    if (oldStatus === undefined) delete prepared.status;
    else prepared.status = oldStatus;
  }
  if (!sameJson(specOf(prepared), specOf(old))) metadata.generation = (oldMeta.generation ?? 1) + 1;
  return prepared;
}

/** A write to the status subresource changes status and nothing else. */
export function prepareStatusUpdate(updated: KubeObject, old: KubeObject): KubeObject {
  const status = (updated as { status?: unknown }).status;
  const prepared = { ...old } as KubeObject & { status?: unknown };
  if (status === undefined) delete prepared.status;
  else prepared.status = status;
  return prepared;
}

/** True when the object carries a deletionTimestamp and no finalizers remain: it can go now. */
export function readyToRemove(object: KubeObject): boolean {
  const metadata = object.metadata ?? {};
  return metadata.deletionTimestamp !== undefined && (metadata.finalizers ?? []).length === 0;
}
