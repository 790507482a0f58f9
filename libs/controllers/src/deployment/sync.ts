// The Deployment verbs every strategy shares (Kubernetes' sync.go): find or create the new ReplicaSet
// and keep revisions in order, scale proportionally when the Deployment is resized (also while paused
// or mid-rollout), delete old ReplicaSets past revisionHistoryLimit, and write status.
import type { KubeObject } from '@flotilla/api';
import { isApiError, isNotFound } from '@flotilla/client';
import { controllerReferenceTo } from '../replicaset/controller-ref.util';
import { thaw, type ReplicaSetObject } from '../replicaset/kube-objects';
import {
  COMPONENT,
  annotateDeployment,
  replaceReplicaSet,
  scaleReplicaSet,
  shapeOf,
  strategyOf,
  writeStatus,
  type DeploymentContext,
} from './deployment-context';
import { REASONS, calculateStatus, condition, newCondition, setCondition } from './deployment-status.util';
import {
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  equalIgnoringHash,
  maxRevision,
  newReplicaSetAnnotations,
  replicaSetsPastHistoryLimit,
  selectorWithHash,
  templateHash,
} from './revision.util';
import { maxSurgeOf, newReplicaSetReplicas, proportionalSizes } from './rolling.util';

export interface ReplicaSetsOfDeployment {
  readonly newReplicaSet: ReplicaSetObject | undefined;
  readonly oldReplicaSets: ReplicaSetObject[];
}

/** The oldest ReplicaSet whose template is the Deployment's (a rollback may have made several). */
export function findNewReplicaSet(context: DeploymentContext): ReplicaSetObject | undefined {
  const template = context.deployment.spec.template;
  return [...context.replicaSets]
    .sort(
      (a, b) =>
        Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? ''),
    )
    .find((rs) => equalIgnoringHash(rs.spec.template, template));
}

function split(context: DeploymentContext): ReplicaSetsOfDeployment {
  const newReplicaSet = findNewReplicaSet(context);
  const oldReplicaSets = context.replicaSets.filter((rs) => rs.metadata.uid !== newReplicaSet?.metadata.uid);
  return { newReplicaSet, oldReplicaSets };
}

/**
 * Kubernetes' getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created if asked and missing) with
 * a revision above every old one, and the Deployment annotated with that revision.
 */
export async function replicaSetsAndSyncRevision(
  context: DeploymentContext,
  createIfMissing: boolean,
): Promise<ReplicaSetsOfDeployment> {
  const { oldReplicaSets, newReplicaSet: existing } = split(context);
  const newRevision = maxRevision(oldReplicaSets) + 1;
  const now = context.now();
  if (existing) {
    const annotations = newReplicaSetAnnotations({
      deploymentAnnotations: context.deployment.metadata.annotations,
      current: existing.metadata.annotations,
      newRevision,
    });
    const minReadySeconds = context.deployment.spec.minReadySeconds ?? 0;
    let updated = existing;
    if (
      JSON.stringify(annotations) !== JSON.stringify(existing.metadata.annotations ?? {}) ||
      (existing.spec.minReadySeconds ?? 0) !== minReadySeconds
    ) {
      const copy = thaw(existing);
      copy.metadata.annotations = annotations;
      copy.spec.minReadySeconds = minReadySeconds;
      updated = await context.client.update(context.types.replicaSet, copy, {
        namespace: existing.metadata.namespace,
        fieldManager: COMPONENT,
      });
      replaceReplicaSet(context, updated);
    }
    await annotateDeployment(context, {
      [REVISION_ANNOTATION]: annotations[REVISION_ANNOTATION] ?? String(newRevision),
    });
    const shape = shapeOf(context.deployment);
    if (shape.progressDeadlineSeconds !== undefined && !condition(shape.status.conditions, 'Progressing')) {
      const found = newCondition(
        'Progressing',
        'True',
        REASONS.foundNewReplicaSet,
        `Found new replica set "${existing.metadata.name ?? ''}"`,
        now,
      );
      await writeStatus(context, {
        ...shape.status,
        conditions: setCondition(shape.status.conditions, found),
      });
    }
    return { newReplicaSet: updated, oldReplicaSets };
  }
  if (!createIfMissing) return { newReplicaSet: undefined, oldReplicaSets };
  const created = await createNewReplicaSet(context, oldReplicaSets, newRevision);
  return { newReplicaSet: created, oldReplicaSets };
}

async function createNewReplicaSet(
  context: DeploymentContext,
  oldReplicaSets: readonly ReplicaSetObject[],
  newRevision: number,
): Promise<ReplicaSetObject | undefined> {
  const deployment = context.deployment;
  const strategy = strategyOf(deployment);
  const collisionCount = deployment.status?.collisionCount;
  const hash = templateHash(deployment.spec.template, collisionCount);
  const template = thaw(deployment.spec.template);
  template.metadata = {
    ...(template.metadata ?? {}),
    labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash },
  };
  const replicas = newReplicaSetReplicas({
    strategy,
    currentTotal: oldReplicaSets.reduce((sum, rs) => sum + (rs.spec.replicas ?? 0), 0),
    newReplicas: 0,
  });
  const name = `${deployment.metadata.name ?? ''}-${hash}`;
  const replicaSet: ReplicaSetObject = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: deployment.metadata.namespace,
      labels: { ...(template.metadata.labels ?? {}) },
      annotations: newReplicaSetAnnotations({
        deploymentAnnotations: deployment.metadata.annotations,
        current: undefined,
        newRevision,
        replicas: { desired: strategy.replicas, max: strategy.replicas + maxSurgeOf(strategy) },
      }),
      ownerReferences: [
        controllerReferenceTo({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: deployment.metadata.name ?? '',
          uid: deployment.metadata.uid ?? '',
        }),
      ],
    },
    spec: {
      replicas,
      minReadySeconds: deployment.spec.minReadySeconds ?? 0,
      selector: selectorWithHash(deployment.spec.selector, hash),
      template,
    },
  };
  let created: ReplicaSetObject;
  try {
    created = await context.client.create(context.types.replicaSet, replicaSet, {
      namespace: deployment.metadata.namespace,
      fieldManager: COMPONENT,
    });
  } catch (error) {
    if (!isApiError(error, 'AlreadyExists')) throw error;
    return adoptOrCollide(context, name);
  }
  replaceReplicaSet(context, created);
  if (replicas > 0) {
    void context.events.record(
      deployment as KubeObject,
      'Normal',
      'ScalingReplicaSet',
      `Scaled up replica set ${name} from 0 to ${replicas}`,
    );
  }
  await annotateDeployment(context, { [REVISION_ANNOTATION]: String(newRevision) });
  const shape = shapeOf(context.deployment);
  if (shape.progressDeadlineSeconds !== undefined) {
    const createdCondition = newCondition(
      'Progressing',
      'True',
      REASONS.newReplicaSetCreated,
      `Created new replica set "${name}"`,
      context.now(),
    );
    await writeStatus(context, {
      ...shape.status,
      conditions: setCondition(shape.status.conditions, createdCondition),
    });
  }
  return created;
}

/**
 * The name is taken: if by our own ReplicaSet with this template (our cache is behind), that is the new
 * ReplicaSet; otherwise a hash collision, and the next attempt uses another hash.
 */
async function adoptOrCollide(
  context: DeploymentContext,
  name: string,
): Promise<ReplicaSetObject | undefined> {
  const deployment = context.deployment;
  let existing: ReplicaSetObject | undefined;
  try {
    existing = await context.client.get<ReplicaSetObject>(context.types.replicaSet, name, {
      namespace: deployment.metadata.namespace,
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const ours = existing?.metadata.ownerReferences?.some(
    (ref) => ref.controller === true && ref.uid === deployment.metadata.uid,
  );
  if (existing && ours && equalIgnoringHash(existing.spec.template, deployment.spec.template)) {
    replaceReplicaSet(context, existing);
    return existing;
  }
  const status = deployment.status ?? {};
  await writeStatus(context, { ...status, collisionCount: (status.collisionCount ?? 0) + 1 });
  throw new Error(`replica set name ${name} is taken by another object: retrying with a new hash`);
}

/** Kubernetes' FindActiveOrLatest: the one ReplicaSet with pods, or the newest if none has any. */
function activeOrLatest(
  newReplicaSet: ReplicaSetObject | undefined,
  oldReplicaSets: readonly ReplicaSetObject[],
): ReplicaSetObject | undefined {
  const all = [...oldReplicaSets, ...(newReplicaSet ? [newReplicaSet] : [])];
  const active = all.filter((rs) => (rs.spec.replicas ?? 0) > 0);
  if (active.length === 1) return active[0];
  if (active.length === 0) {
    if (newReplicaSet) return newReplicaSet;
    return [...oldReplicaSets].sort(byCreationDescending)[0];
  }
  return undefined;
}

function byCreationDescending(a: ReplicaSetObject, b: ReplicaSetObject): number {
  return Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? '') || 0;
}

/** Whether the new ReplicaSet alone has every replica, available (Kubernetes' IsSaturated). */
function saturated(context: DeploymentContext, rs: ReplicaSetObject | undefined): boolean {
  if (!rs) return false;
  const replicas = strategyOf(context.deployment).replicas;
  return (
    (rs.spec.replicas ?? 0) === replicas &&
    rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION] === String(replicas) &&
    (rs.status?.availableReplicas ?? 0) === replicas
  );
}

/** Sizes the ReplicaSets to the Deployment's replicas (Kubernetes' scale()). */
export async function scale(
  context: DeploymentContext,
  newReplicaSet: ReplicaSetObject | undefined,
  oldReplicaSets: readonly ReplicaSetObject[],
): Promise<void> {
  const strategy = strategyOf(context.deployment);
  const only = activeOrLatest(newReplicaSet, oldReplicaSets);
  if (only) {
    if ((only.spec.replicas ?? 0) !== strategy.replicas)
      await scaleReplicaSet(context, only, strategy.replicas);
    return;
  }
  if (saturated(context, newReplicaSet)) {
    for (const old of oldReplicaSets.filter((rs) => (rs.spec.replicas ?? 0) > 0)) {
      await scaleReplicaSet(context, old, 0);
    }
    return;
  }
  if (!strategy.rollingUpdate) return;
  const active = [...oldReplicaSets, ...(newReplicaSet ? [newReplicaSet] : [])].filter(
    (rs) => (rs.spec.replicas ?? 0) > 0,
  );
  const sizes = proportionalSizes({
    strategy,
    statusReplicas: context.deployment.status?.replicas ?? 0,
    replicaSets: active.map((rs) => {
      const max = Number(rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION] ?? '');
      return {
        name: rs.metadata.name ?? '',
        replicas: rs.spec.replicas ?? 0,
        created: rs.metadata.creationTimestamp ?? '',
        maxReplicas: Number.isInteger(max) && max > 0 ? max : undefined,
      };
    }),
  });
  for (const rs of active) {
    await scaleReplicaSet(context, rs, sizes.get(rs.metadata.name ?? '') ?? rs.spec.replicas ?? 0, {
      annotationsEvenIfSameSize: true,
    });
  }
}

/** Whether the Deployment was resized since its active ReplicaSets were last scaled for it. */
export function isScalingEvent(context: DeploymentContext): boolean {
  const replicas = String(strategyOf(context.deployment).replicas);
  return context.replicaSets.some((rs) => {
    if ((rs.spec.replicas ?? 0) === 0) return false;
    const desired = rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION];
    return desired !== undefined && desired !== replicas;
  });
}

/** Deletes old ReplicaSets beyond revisionHistoryLimit. */
export async function cleanupDeployment(
  context: DeploymentContext,
  oldReplicaSets: readonly ReplicaSetObject[],
): Promise<void> {
  const limit = context.deployment.spec.revisionHistoryLimit;
  if (limit === undefined) return;
  for (const rs of replicaSetsPastHistoryLimit(oldReplicaSets, limit)) {
    try {
      await context.client.delete(context.types.replicaSet, rs.metadata.name ?? '', {
        namespace: rs.metadata.namespace,
        preconditions: { uid: rs.metadata.uid },
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

/** Status from the ReplicaSets, conditions other than Available left as they are. */
export async function syncDeploymentStatus(
  context: DeploymentContext,
  newReplicaSet: ReplicaSetObject | undefined,
): Promise<void> {
  const status = calculateStatus({
    deployment: shapeOf(context.deployment),
    replicaSets: context.replicaSets,
    newReplicaSet: newReplicaSet
      ? context.replicaSets.find((rs) => rs.metadata.uid === newReplicaSet.metadata.uid)
      : undefined,
    now: context.now(),
  });
  await writeStatus(context, status);
}

/** Scaling only (a paused Deployment, or a resize): Kubernetes' sync(). */
export async function sync(context: DeploymentContext): Promise<void> {
  const { newReplicaSet, oldReplicaSets } = await replicaSetsAndSyncRevision(context, false);
  await scale(context, newReplicaSet, oldReplicaSets);
  if (context.deployment.spec.paused) {
    await cleanupDeployment(
      context,
      context.replicaSets.filter((rs) => rs.metadata.uid !== newReplicaSet?.metadata.uid),
    );
  }
  await syncDeploymentStatus(context, newReplicaSet);
}
