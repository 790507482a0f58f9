// What one reconcile of one Deployment works with: the Deployment and its ReplicaSets as last written
// (each write replaces the copy here, so later steps of the same reconcile see it), the pods of those
// ReplicaSets, and the writes every verb shares (scale a ReplicaSet, write status, annotate).
import type { DeploymentStatus, KubeObject, ResourceType } from '@flotilla/api';
import type { EventRecorder, RestClient } from '@flotilla/client';
import type { DeploymentObject, PodObject, ReplicaSetObject } from '../replicaset/kube-objects';
import { thaw } from '../replicaset/kube-objects';
import { DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, canonicalJson } from './revision.util';
import { maxSurgeOf, type StrategyShape } from './rolling.util';
import type { DeploymentShape } from './deployment-status.util';

export const COMPONENT = 'deployment-controller';

export interface DeploymentContext {
  readonly client: RestClient;
  readonly events: EventRecorder;
  readonly types: { readonly deployment: ResourceType; readonly replicaSet: ResourceType };
  readonly now: () => Date;
  /** The Deployment as last read or written. */
  deployment: DeploymentObject;
  /** The ReplicaSets it controls, as last read or written. */
  replicaSets: ReplicaSetObject[];
  /** Its ReplicaSets' pods by ReplicaSet uid, terminating ones included (Recreate waits for them). */
  readonly podsByReplicaSet: ReadonlyMap<string, readonly PodObject[]>;
  /** Brings this Deployment back after `delayMs` (progress deadlines). */
  requeueAfter(delayMs: number): void;
}

export function strategyOf(deployment: DeploymentObject): StrategyShape {
  const strategy = deployment.spec.strategy;
  return {
    replicas: deployment.spec.replicas ?? 1,
    rollingUpdate:
      strategy?.type === 'Recreate'
        ? undefined
        : (strategy?.rollingUpdate ?? { maxSurge: '25%', maxUnavailable: '25%' }),
  };
}

export function shapeOf(deployment: DeploymentObject): DeploymentShape {
  const deadline = deployment.spec.progressDeadlineSeconds;
  return {
    name: deployment.metadata.name ?? '',
    generation: deployment.metadata.generation ?? 1,
    strategy: strategyOf(deployment),
    // Kubernetes treats MaxInt32 as "no deadline".
    progressDeadlineSeconds: deadline === undefined || deadline >= 2 ** 31 - 1 ? undefined : deadline,
    status: deployment.status ?? {},
  };
}

export function replaceReplicaSet(context: DeploymentContext, updated: ReplicaSetObject): void {
  const index = context.replicaSets.findIndex((rs) => rs.metadata.uid === updated.metadata.uid);
  if (index === -1) context.replicaSets.push(updated);
  else context.replicaSets[index] = updated;
}

export interface ScaleOptions {
  /** Also write the desired/max-replicas annotations when the size does not change. */
  readonly annotationsEvenIfSameSize?: boolean;
}

/**
 * Scales a ReplicaSet and stamps it with the Deployment's current size (desired-replicas, max-replicas),
 * recording Kubernetes' ScalingReplicaSet event. Returns the ReplicaSet as written.
 */
export async function scaleReplicaSet(
  context: DeploymentContext,
  rs: ReplicaSetObject,
  size: number,
  options: ScaleOptions = {},
): Promise<ReplicaSetObject> {
  const from = rs.spec.replicas ?? 0;
  if (from === size && !options.annotationsEvenIfSameSize) return rs;
  const strategy = strategyOf(context.deployment);
  const desired = String(strategy.replicas);
  const max = String(strategy.replicas + maxSurgeOf(strategy));
  const annotations = rs.metadata.annotations ?? {};
  if (
    from === size &&
    annotations[DESIRED_REPLICAS_ANNOTATION] === desired &&
    annotations[MAX_REPLICAS_ANNOTATION] === max
  ) {
    return rs;
  }
  const copy = thaw(rs);
  copy.spec.replicas = size;
  copy.metadata.annotations = {
    ...annotations,
    [DESIRED_REPLICAS_ANNOTATION]: desired,
    [MAX_REPLICAS_ANNOTATION]: max,
  };
  const updated = await context.client.update(context.types.replicaSet, copy, {
    namespace: rs.metadata.namespace,
    fieldManager: COMPONENT,
  });
  replaceReplicaSet(context, updated);
  if (from !== size) {
    const direction = size > from ? 'up' : 'down';
    void context.events.record(
      context.deployment as KubeObject,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${direction} replica set ${rs.metadata.name ?? ''} from ${from} to ${size}`,
    );
  }
  return updated;
}

/** Writes the Deployment's status if it differs from what is stored. */
export async function writeStatus(context: DeploymentContext, status: DeploymentStatus): Promise<void> {
  if (canonicalJson(context.deployment.status ?? {}) === canonicalJson(status)) return;
  context.deployment = await context.client.updateStatus(
    context.types.deployment,
    { ...thaw(context.deployment), status },
    { namespace: context.deployment.metadata.namespace, fieldManager: COMPONENT },
  );
}

/** Sets annotations on the Deployment itself (its revision); a merge patch, so the spec is untouched. */
export async function annotateDeployment(
  context: DeploymentContext,
  annotations: Readonly<Record<string, string>>,
): Promise<void> {
  const current = context.deployment.metadata.annotations ?? {};
  if (Object.entries(annotations).every(([key, value]) => current[key] === value)) return;
  context.deployment = await context.client.patch<DeploymentObject>(
    context.types.deployment,
    context.deployment.metadata.name ?? '',
    { metadata: { annotations } },
    { namespace: context.deployment.metadata.namespace, patchType: 'merge', fieldManager: COMPONENT },
  );
}
