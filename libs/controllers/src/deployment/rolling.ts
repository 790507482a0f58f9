// RollingUpdate (Kubernetes' rolling.go): grow the new ReplicaSet into the room maxSurge leaves, shrink
// the old ones as far as maxUnavailable allows, one step per reconcile; ReplicaSet status changes bring
// the Deployment back for the next step. The arithmetic is in rolling.util.ts.
import type { ReplicaSetObject } from '../replicaset/kube-objects';
import { scaleReplicaSet, shapeOf, strategyOf, type DeploymentContext } from './deployment-context';
import { deploymentComplete, calculateStatus } from './deployment-status.util';
import { syncRolloutStatus } from './progress';
import { newReplicaSetReplicas, oldReplicaSetsScaleDown, surgeCountOf } from './rolling.util';
import { cleanupDeployment, replicaSetsAndSyncRevision } from './sync';

export async function rolloutRolling(context: DeploymentContext): Promise<void> {
  const { newReplicaSet, oldReplicaSets } = await replicaSetsAndSyncRevision(context, true);
  if (await reconcileNewReplicaSet(context, newReplicaSet)) return syncRolloutStatus(context, newReplicaSet);
  if (await reconcileOldReplicaSets(context, newReplicaSet, oldReplicaSets)) {
    return syncRolloutStatus(context, newReplicaSet);
  }
  const status = calculateStatus({
    deployment: shapeOf(context.deployment),
    replicaSets: context.replicaSets,
    newReplicaSet: current(context, newReplicaSet),
    now: context.now(),
  });
  if (deploymentComplete(shapeOf(context.deployment), status)) {
    await cleanupDeployment(
      context,
      context.replicaSets.filter((rs) => rs.metadata.uid !== newReplicaSet?.metadata.uid),
    );
  }
  await syncRolloutStatus(context, newReplicaSet);
}

function current(context: DeploymentContext, rs: ReplicaSetObject | undefined): ReplicaSetObject | undefined {
  return rs ? context.replicaSets.find((candidate) => candidate.metadata.uid === rs.metadata.uid) : undefined;
}

async function reconcileNewReplicaSet(
  context: DeploymentContext,
  newReplicaSet: ReplicaSetObject | undefined,
): Promise<boolean> {
  const rs = current(context, newReplicaSet);
  if (!rs) return false;
  const strategy = strategyOf(context.deployment);
  const size = rs.spec.replicas ?? 0;
  if (size === strategy.replicas) return false;
  const target =
    size > strategy.replicas
      ? strategy.replicas
      : newReplicaSetReplicas({
          strategy,
          currentTotal: context.replicaSets.reduce(
            (sum, set) => sum + surgeCountOf({ spec: set.spec.replicas ?? 0, status: set.status?.replicas ?? 0 }),
            0,
          ),
          newReplicas: size,
        });
  if (target === size) return false;
  await scaleReplicaSet(context, rs, target);
  return true;
}

async function reconcileOldReplicaSets(
  context: DeploymentContext,
  newReplicaSet: ReplicaSetObject | undefined,
  oldReplicaSets: readonly ReplicaSetObject[],
): Promise<boolean> {
  const fresh = current(context, newReplicaSet);
  const olds = oldReplicaSets
    .map((rs) => current(context, rs))
    .filter((rs): rs is ReplicaSetObject => rs !== undefined);
  const targets = oldReplicaSetsScaleDown({
    strategy: strategyOf(context.deployment),
    newReplicaSet: fresh
      ? { replicas: fresh.spec.replicas ?? 0, available: fresh.status?.availableReplicas ?? 0 }
      : undefined,
    oldReplicaSets: olds.map((rs) => ({
      name: rs.metadata.name ?? '',
      replicas: rs.spec.replicas ?? 0,
      available: rs.status?.availableReplicas ?? 0,
      created: rs.metadata.creationTimestamp ?? '',
    })),
  });
  for (const target of targets) {
    const rs = olds.find((candidate) => candidate.metadata.name === target.name);
    if (rs) await scaleReplicaSet(context, rs, target.to);
  }
  return targets.length > 0;
}
