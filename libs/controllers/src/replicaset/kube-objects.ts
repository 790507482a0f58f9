// Small helpers the workload controllers share for the objects they read from informer caches.
import {
  RESOURCE_TYPES,
  type Deployment,
  type KubeObject,
  type Pod,
  type ReplicaSet,
  type ResourceType,
} from '@flotilla/api';

export function typeOf(kind: string): ResourceType {
  const type = RESOURCE_TYPES.find((candidate) => candidate.kind === kind);
  if (!type) throw new Error(`@flotilla/api has no resource type ${kind}`);
  return type;
}

/** A mutable deep copy of a cached object: informer caches are frozen and shared with every reader. */
export function thaw<T>(object: T): T {
  return structuredClone(object);
}

/** The typed shapes as stored objects (so they pass where any KubeObject does). */
export type PodObject = Pod & KubeObject;
export type ReplicaSetObject = ReplicaSet & KubeObject;
export type DeploymentObject = Deployment & KubeObject;
