// Rollback through the deprecated.deployment.rollback.to annotation (what extensions/v1beta1's
// spec.rollbackTo became in apps/v1): copy the template of the asked revision (0: the one before the
// current) into the Deployment and clear the annotation. kubectl 1.32's `rollout undo` does not use
// this: it patches the template from the old ReplicaSet itself, and the ordinary sync then finds that
// ReplicaSet as the new one and gives it the next revision (sync.ts).
import type { KubeObject } from '@flotilla/api';
import { thaw, type DeploymentObject } from '../replicaset/kube-objects';
import { COMPONENT, type DeploymentContext } from './deployment-context';
import {
  ROLLBACK_TO_ANNOTATION,
  byRevision,
  equalIgnoringHash,
  revisionOf,
  rolledBackAnnotations,
  templateWithoutHash,
} from './revision.util';
import { replicaSetsAndSyncRevision } from './sync';

/** The revision the annotation asks for; undefined when there is no (valid) annotation. */
export function rollbackRevision(deployment: DeploymentObject): number | undefined {
  const value = deployment.metadata.annotations?.[ROLLBACK_TO_ANNOTATION];
  if (value === undefined) return undefined;
  const revision = Number(value);
  return Number.isSafeInteger(revision) && revision >= 0 ? revision : 0;
}

export async function rollback(context: DeploymentContext, toRevision: number): Promise<void> {
  const { newReplicaSet, oldReplicaSets } = await replicaSetsAndSyncRevision(context, true);
  const all = [...oldReplicaSets, ...(newReplicaSet ? [newReplicaSet] : [])].sort(byRevision);
  // Revision 0 means "the previous one": the second highest.
  const target = toRevision === 0 ? all[all.length - 2] : all.find((rs) => revisionOf(rs) === toRevision);
  const deployment = context.deployment as KubeObject;
  const copy = thaw(context.deployment);
  let annotations: Record<string, string> = { ...(copy.metadata.annotations ?? {}) };
  if (!target?.spec.template) {
    void context.events.record(
      deployment,
      'Warning',
      'DeploymentRollbackRevisionNotFound',
      toRevision === 0 ? 'Unable to find last revision.' : 'Unable to find the revision to rollback to.',
    );
  } else if (equalIgnoringHash(target.spec.template, copy.spec.template)) {
    void context.events.record(
      deployment,
      'Warning',
      'DeploymentRollbackTemplateUnchanged',
      `The rollback revision contains the same template as current deployment "${copy.metadata.name ?? ''}"`,
    );
  } else {
    copy.spec.template = templateWithoutHash(thaw(target.spec.template));
    annotations = rolledBackAnnotations(annotations, target.metadata.annotations);
    void context.events.record(
      deployment,
      'Normal',
      'DeploymentRollback',
      `Rolled back deployment "${copy.metadata.name ?? ''}" to revision ${revisionOf(target)}`,
    );
  }
  delete annotations[ROLLBACK_TO_ANNOTATION];
  copy.metadata.annotations = annotations;
  context.deployment = await context.client.update(context.types.deployment, copy, {
    namespace: copy.metadata.namespace,
    fieldManager: COMPONENT,
  });
}
