// A Deployment's revisions as kubectl reads them from its ReplicaSets (the deployment controller
// writes deployment.kubernetes.io/revision on each), and the patch `rollout undo` sends: the old
// ReplicaSet's template without its pod-template-hash label, and its annotations (change-cause) with
// the Deployment's own bookkeeping kept. Example: revisions 1 (web:1) and 2 (web:2), undo with no
// --to-revision → revision 1's template; the controller then numbers it revision 3.
import type { KubeObject, PodTemplateSpec } from '@flotilla/api';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
// kubectl's annotationsToSkip: these belong to the Deployment or to one ReplicaSet.
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

export interface RevisionEntry {
  readonly revision: number;
  readonly replicaSet: KubeObject;
  readonly template: PodTemplateSpec | undefined;
  readonly changeCause: string | undefined;
}

/** The ReplicaSets a Deployment controls, by revision, oldest first. */
export function revisionHistory(deployment: KubeObject, replicaSets: readonly KubeObject[]): RevisionEntry[] {
  const uid = deployment.metadata.uid;
  const entries: RevisionEntry[] = [];
  for (const rs of replicaSets) {
    const controlled = rs.metadata.ownerReferences?.some((ref) => ref.controller === true && ref.uid === uid);
    if (!controlled) continue;
    const revision = Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? '');
    if (!Number.isSafeInteger(revision) || revision <= 0) continue;
    const spec = rs['spec'] as { template?: PodTemplateSpec } | undefined;
    entries.push({
      revision,
      replicaSet: rs,
      template: spec?.template,
      changeCause: rs.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION],
    });
  }
  return entries.sort((a, b) => a.revision - b.revision);
}

/** kubectl's choice for undo: the asked revision, or with 0 the one before the newest. */
export function undoTarget(
  history: readonly RevisionEntry[],
  toRevision: number,
  name: string,
): RevisionEntry {
  if (toRevision === 0) {
    const previous = history[history.length - 2];
    if (!previous) throw new Error(`no rollout history found for deployment "${name}"`);
    return previous;
  }
  const found = history.find((entry) => entry.revision === toRevision);
  if (!found) throw new Error(`unable to find specified revision ${toRevision} in history`);
  return found;
}

/** Nulls, empty objects and empty arrays dropped, so Go's zero values compare equal to absence. */
function semantic(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(semantic).filter((item) => item !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .map(([key, child]) => [key, semantic(child)] as const)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  return value === null ? undefined : value;
}

export function templateWithoutHash(template: PodTemplateSpec): PodTemplateSpec {
  const labels = { ...(template.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  return { ...template, metadata: { ...(template.metadata ?? {}), labels } };
}

export function sameTemplate(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  const strip = (template: PodTemplateSpec | undefined) =>
    template ? templateWithoutHash(template) : undefined;
  return JSON.stringify(semantic(strip(a))) === JSON.stringify(semantic(strip(b)));
}

/** The JSON patch kubectl's rollout undo sends. */
export function undoPatch(deployment: KubeObject, target: RevisionEntry): unknown[] {
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(deployment.metadata.annotations ?? {})) {
    if (NOT_COPIED.has(key)) annotations[key] = value;
  }
  for (const [key, value] of Object.entries(target.replicaSet.metadata.annotations ?? {})) {
    if (!NOT_COPIED.has(key)) annotations[key] = value;
  }
  return [
    {
      op: 'replace',
      path: '/spec/template',
      value: templateWithoutHash(target.template ?? { spec: { containers: [] } }),
    },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ];
}
