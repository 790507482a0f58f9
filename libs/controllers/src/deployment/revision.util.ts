// Revisions and the pod-template-hash, as Kubernetes keeps them on a Deployment's ReplicaSets:
//  - each ReplicaSet is named `<deployment>-<hash>`, where the hash is of the pod template (and the
//    collision count), and carries the hash as a label in its selector and template, so the
//    ReplicaSets of one Deployment never select each other's pods;
//  - deployment.kubernetes.io/revision numbers the templates: the current one is the highest; rolling
//    back to an old template gives its ReplicaSet the next number, and revision-history keeps the
//    numbers it had before;
//  - desired-replicas and max-replicas record the size the Deployment had when it last scaled the
//    ReplicaSet, which proportional scaling needs.
// Example: revisions 1 and 2 exist, the template goes back to revision 1's → that ReplicaSet becomes
// revision 3 with revision-history "1".
import type { LabelSelector, PodTemplateSpec, ReplicaSet } from '@flotilla/api';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
/** The extensions/v1beta1 rollbackTo field as apps/v1 carries it (set by old clients). */
export const ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
const REVISION_HISTORY_LIMIT_CHARS = 2000;

/** Annotations that belong to the Deployment or to one ReplicaSet and are never copied between them. */
export const NOT_COPIED_ANNOTATIONS: ReadonlySet<string> = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
]);

// Kubernetes' generated-name alphabet: no vowels, no look-alikes, so hashes never spell words.
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with object keys sorted, so equal objects serialise equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The value with nulls, empty objects and empty arrays removed, as Kubernetes' semantic equality
 * treats nil and empty alike: a template that went through a Go client (kubectl rollout undo sends
 * `creationTimestamp: null` and `resources: {}`) is the same template.
 */
export function semanticValue(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(semanticValue).filter((item) => item !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .map(([key, child]) => [key, semanticValue(child)] as const)
      .filter(([, child]) => child !== undefined);
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  return value === null ? undefined : value;
}

function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The pod-template-hash of a template; a collision count changes it, to step around a name taken. */
export function templateHash(template: PodTemplateSpec, collisionCount?: number): string {
  const text =
    canonicalJson(semanticValue(withoutHash(template))) +
    (collisionCount === undefined ? '' : `/${collisionCount}`);
  return [...String(fnv1a32(text))]
    .map((digit) => SAFE_ALPHABET[digit.charCodeAt(0) % SAFE_ALPHABET.length] ?? 'b')
    .join('');
}

function withoutHash(template: PodTemplateSpec | undefined): PodTemplateSpec | undefined {
  if (!template) return template;
  const labels = { ...(template.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  const metadata = { ...(template.metadata ?? {}) };
  if (Object.keys(labels).length > 0) metadata.labels = labels;
  else delete metadata.labels;
  return { ...template, metadata };
}

/** Whether two templates are the same apart from the pod-template-hash label. */
export function equalIgnoringHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJson(semanticValue(withoutHash(a))) === canonicalJson(semanticValue(withoutHash(b)));
}

/** The template with the hash label removed: what a Deployment gets back when rolled back to it. */
export function templateWithoutHash(template: PodTemplateSpec): PodTemplateSpec {
  return withoutHash(template) ?? template;
}

/** The Deployment's selector narrowed to one ReplicaSet's pods. */
export function selectorWithHash(selector: LabelSelector, hash: string): LabelSelector {
  return { ...selector, matchLabels: { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
}

/** The revision annotation as a number; 0 when absent or not a number. */
export function revisionOf(object: { metadata: { annotations?: Record<string, string> } }): number {
  const value = Number(object.metadata.annotations?.[REVISION_ANNOTATION] ?? '');
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

export function maxRevision(replicaSets: readonly ReplicaSet[]): number {
  return replicaSets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

export interface NewReplicaSetAnnotationsInput {
  readonly deploymentAnnotations: Readonly<Record<string, string>> | undefined;
  readonly current: Readonly<Record<string, string>> | undefined;
  readonly newRevision: number;
  /** Set for a ReplicaSet about to be created: its replica annotations. */
  readonly replicas?: { readonly desired: number; readonly max: number };
}

/**
 * The annotations the new ReplicaSet should carry (Kubernetes' SetNewReplicaSetAnnotations): the
 * Deployment's own (change-cause and the like), the new revision if higher than its current one, and
 * its earlier revision appended to revision-history when it is being reused by a rollback.
 */
export function newReplicaSetAnnotations(input: NewReplicaSetAnnotationsInput): Record<string, string> {
  const annotations: Record<string, string> = { ...(input.current ?? {}) };
  for (const [key, value] of Object.entries(input.deploymentAnnotations ?? {})) {
    if (!NOT_COPIED_ANNOTATIONS.has(key)) annotations[key] = value;
  }
  const previous = input.current?.[REVISION_ANNOTATION];
  const previousNumber = Number(previous ?? '0');
  if ((Number.isFinite(previousNumber) ? previousNumber : 0) < input.newRevision) {
    annotations[REVISION_ANNOTATION] = String(input.newRevision);
    if (previous !== undefined && previous !== '') {
      const history = (input.current?.[REVISION_HISTORY_ANNOTATION] ?? '').split(',').filter(Boolean);
      history.push(previous);
      // Bounded, oldest dropped first, as Kubernetes bounds it.
      while (history.join(',').length > REVISION_HISTORY_LIMIT_CHARS && history.length > 1) history.shift();
      annotations[REVISION_HISTORY_ANNOTATION] = history.join(',');
    }
  }
  if (input.replicas) {
    annotations[DESIRED_REPLICAS_ANNOTATION] = String(input.replicas.desired);
    annotations[MAX_REPLICAS_ANNOTATION] = String(input.replicas.max);
  }
  return annotations;
}

/** A Deployment's annotations after rolling back to a ReplicaSet: its own kept, the rest the ReplicaSet's. */
export function rolledBackAnnotations(
  deployment: Readonly<Record<string, string>> | undefined,
  replicaSet: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(deployment ?? {})) {
    if (NOT_COPIED_ANNOTATIONS.has(key)) annotations[key] = value;
  }
  for (const [key, value] of Object.entries(replicaSet ?? {})) {
    if (!NOT_COPIED_ANNOTATIONS.has(key)) annotations[key] = value;
  }
  return annotations;
}

export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const difference = revisionOf(a) - revisionOf(b);
  if (difference !== 0) return difference;
  return Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? '') || 0;
}

/**
 * Old ReplicaSets to delete beyond revisionHistoryLimit (Kubernetes' cleanupDeployment): the oldest
 * revisions first, and only those that are empty and whose controller has seen their latest spec.
 */
export function replicaSetsPastHistoryLimit<T extends ReplicaSet>(
  oldReplicaSets: readonly T[],
  limit: number,
): T[] {
  const alive = oldReplicaSets.filter((rs) => rs.metadata.deletionTimestamp === undefined).sort(byRevision);
  const surplus = alive.length - limit;
  if (surplus <= 0) return [];
  return alive
    .slice(0, surplus)
    .filter(
      (rs) =>
        (rs.status?.replicas ?? 0) === 0 &&
        (rs.spec.replicas ?? 0) === 0 &&
        (rs.metadata.generation ?? 0) <= (rs.status?.observedGeneration ?? 0),
    );
}
