// Recreate (Kubernetes' recreate.go): every old pod goes, and only once none is left running or
// terminating does the new ReplicaSet get its pods, so two versions never run at once.
import type { ReplicaSetObject } from '../replicaset/kube-objects';
import { scaleReplicaSet, shapeOf, strategyOf, type DeploymentContext } from './deployment-context';
import { calculateStatus, deploymentComplete } from './deployment-status.util';
import { syncRolloutStatus } from './progress';
import { cleanupDeployment, replicaSetsAndSyncRevision } from './sync';

export async function rolloutRecreate(context: DeploymentContext): Promise<void> {
  const found = await replicaSetsAndSyncRevision(context, false);
  let newReplicaSet = found.newReplicaSet;
  const oldReplicaSets = found.oldReplicaSets;
  let scaledDown = false;
  for (const rs of oldReplicaSets) {
    if ((rs.spec.replicas ?? 0) === 0) continue;
    await scaleReplicaSet(context, rs, 0);
    scaledDown = true;
  }
  if (scaledDown) return syncRolloutStatus(context, newReplicaSet);
  if (oldPodsRunning(context, newReplicaSet, oldReplicaSets))
    return syncRolloutStatus(context, newReplicaSet);
  if (!newReplicaSet) newReplicaSet = (await replicaSetsAndSyncRevision(context, true)).newReplicaSet;
  const fresh = newReplicaSet
    ? context.replicaSets.find((rs) => rs.metadata.uid === newReplicaSet?.metadata.uid)
    : undefined;
  if (fresh) await scaleReplicaSet(context, fresh, strategyOf(context.deployment).replicas);
  const status = calculateStatus({
    deployment: shapeOf(context.deployment),
    replicaSets: context.replicaSets,
    newReplicaSet: fresh,
    now: context.now(),
  });
  if (deploymentComplete(shapeOf(context.deployment), status)) {
    await cleanupDeployment(
      context,
      context.replicaSets.filter((rs) => rs.metadata.uid !== fresh?.metadata.uid),
    );
  }
  await syncRolloutStatus(context, newReplicaSet);
}

/** Any old ReplicaSet still reporting pods, or any of their pods not yet finished or gone. */
function oldPodsRunning(
  context: DeploymentContext,
  newReplicaSet: ReplicaSetObject | undefined,
  oldReplicaSets: readonly ReplicaSetObject[],
): boolean {
  if (oldReplicaSets.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
  for (const [uid, pods] of context.podsByReplicaSet) {
    if (uid === newReplicaSet?.metadata.uid) continue;
    if (pods.some((pod) => pod.status?.phase !== 'Failed' && pod.status?.phase !== 'Succeeded')) return true;
  }
  return false;
}
