// The arithmetic of a rolling update, with Kubernetes' rounding, kept pure so that every step can be
// checked in a table. Sizes are ReplicaSets' spec.replicas; "available" is their status.
//
// Worked example: replicas 10, maxSurge 25%, maxUnavailable 25%, old RS at 10 (all available), new RS 0.
//  - fenceposts: surge rounds up (2.5 → 3), unavailable rounds down (2.5 → 2): at most 13 pods, at least
//    8 available;
//  - new RS: 13 allowed − 10 existing → scale up by 3 (never past 10): new RS 0 → 3;
//  - old RSs: 13 pods − 8 minimum available − 3 new not yet available → at most 2 may go; none of the
//    old pods is unhealthy, and 10 available − 8 minimum → scale the old RS 10 → 8;
//  - as new pods become available the old RS shrinks by as many, and the new RS grows into the room.
// Resizing mid-rollout (proportionalSizes): 10 → 15 with old 8 and new 5 (13 pods, max-replicas 13)
// allows 15 + 4 = 19 pods, 6 to add: the bigger RS first, 8·19/13 = 11.69 → +4 (old 12), 5·19/13 =
// 7.31 → +2 (new 7); the 0 left over goes to the biggest.
import type { IntOrString } from '@flotilla/api';

export interface Fenceposts {
  readonly maxSurge: number;
  readonly maxUnavailable: number;
}

export interface RollingParameters {
  readonly maxSurge?: IntOrString;
  readonly maxUnavailable?: IntOrString;
}

/**
 * An int-or-percent field as a count of `total`: percentages round up or down as the caller says.
 * Throws on text that is neither a whole number nor "N%" (the apiserver refuses those already).
 */
export function scaledValue(value: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const percent = /^(\d+)%$/.exec(value);
  if (percent) {
    const exact = (Number(percent[1]) * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  if (/^\d+$/.test(value)) return Number(value);
  throw new Error(`"${value}" is neither a whole number nor a percentage such as "25%"`);
}

/** Kubernetes' ResolveFenceposts: surge rounds up, unavailable down, and both 0 would never progress. */
export function resolveFenceposts(parameters: RollingParameters, desired: number): Fenceposts {
  const maxSurge = scaledValue(parameters.maxSurge, desired, true);
  const maxUnavailable = scaledValue(parameters.maxUnavailable, desired, false);
  if (maxSurge === 0 && maxUnavailable === 0) return { maxSurge: 0, maxUnavailable: 1 };
  return { maxSurge, maxUnavailable };
}

export interface StrategyShape {
  readonly replicas: number;
  /** Undefined for Recreate. */
  readonly rollingUpdate: RollingParameters | undefined;
}

/** Extra pods allowed over `replicas` (0 for Recreate): also the max-replicas annotation's surge. */
export function maxSurgeOf(strategy: StrategyShape): number {
  if (!strategy.rollingUpdate) return 0;
  return resolveFenceposts(strategy.rollingUpdate, strategy.replicas).maxSurge;
}

/** Pods that may be unavailable (0 for Recreate or no replicas), never more than `replicas`. */
export function maxUnavailableOf(strategy: StrategyShape): number {
  if (!strategy.rollingUpdate || strategy.replicas === 0) return 0;
  return Math.min(
    resolveFenceposts(strategy.rollingUpdate, strategy.replicas).maxUnavailable,
    strategy.replicas,
  );
}

/**
 * The pods a ReplicaSet counts for against maxSurge: its spec, or the pods it still has when its
 * controller has not yet deleted the ones a scale-down asked for. Kubernetes counts spec alone, so its
 * new ReplicaSet may create pods before the old one has removed its own and the rollout briefly runs
 * more than replicas + maxSurge; counting what is still there keeps the bound at every instant.
 * Example: old RS scaled 4 → 3 but its 4th pod not yet deleted (status.replicas 4), new RS at 1 with
 * replicas 4, maxSurge 1: 4 + 1 = 5 pods already, so the new RS waits instead of growing to 2.
 */
export function surgeCountOf(replicaSet: { readonly spec: number; readonly status: number }): number {
  return Math.max(replicaSet.spec, replicaSet.status);
}

export interface NewReplicaSetInput {
  readonly strategy: StrategyShape;
  /** surgeCountOf summed over every ReplicaSet of the deployment, the new one included. */
  readonly currentTotal: number;
  /** The new ReplicaSet's spec.replicas. */
  readonly newReplicas: number;
}

/** What the new ReplicaSet should be scaled to now (Kubernetes' NewRSNewReplicas). */
export function newReplicaSetReplicas(input: NewReplicaSetInput): number {
  const { strategy, currentTotal, newReplicas } = input;
  if (!strategy.rollingUpdate) return strategy.replicas;
  const maxTotal = strategy.replicas + maxSurgeOf(strategy);
  if (currentTotal >= maxTotal) return newReplicas;
  const scaleUp = Math.min(maxTotal - currentTotal, strategy.replicas - newReplicas);
  return newReplicas + Math.max(0, scaleUp);
}

export interface SizedReplicaSet {
  readonly name: string;
  readonly replicas: number;
  readonly available: number;
  /** creationTimestamp; older ReplicaSets are scaled down first. */
  readonly created: string;
}

export interface OldScaleDownInput {
  readonly strategy: StrategyShape;
  readonly newReplicaSet: { readonly replicas: number; readonly available: number } | undefined;
  readonly oldReplicaSets: readonly SizedReplicaSet[];
}

export interface ScaleTarget {
  readonly name: string;
  readonly from: number;
  readonly to: number;
}

export function byCreation<T extends { readonly created: string; readonly name: string }>(
  a: T,
  b: T,
): number {
  const time = Date.parse(a.created) - Date.parse(b.created);
  if (time !== 0 && Number.isFinite(time)) return time;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * How far to scale old ReplicaSets down (Kubernetes' reconcileOldReplicaSets): first pods that are not
 * available anyway (they cost no availability), then available ones down to the minimum available.
 * Returns the old ReplicaSets whose size changes, oldest first.
 */
export function oldReplicaSetsScaleDown(input: OldScaleDownInput): ScaleTarget[] {
  const { strategy } = input;
  const oldTotal = input.oldReplicaSets.reduce((sum, rs) => sum + rs.replicas, 0);
  if (oldTotal === 0) return [];
  const newReplicas = input.newReplicaSet?.replicas ?? 0;
  const newAvailable = input.newReplicaSet?.available ?? 0;
  const allPods = oldTotal + newReplicas;
  const minAvailable = strategy.replicas - maxUnavailableOf(strategy);
  const newUnavailable = newReplicas - newAvailable;
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];

  const sizes = [...input.oldReplicaSets].sort(byCreation).map((rs) => ({ ...rs, to: rs.replicas }));
  // Unhealthy replicas first: removing a pod that is not available costs nothing.
  let cleaned = 0;
  for (const rs of sizes) {
    if (cleaned >= maxScaledDown) break;
    if (rs.to === 0 || rs.to === rs.available) continue;
    const count = Math.min(maxScaledDown - cleaned, rs.to - rs.available);
    rs.to -= count;
    cleaned += count;
  }
  // Then available ones, as long as the minimum stays available.
  const available = newAvailable + sizes.reduce((sum, rs) => sum + rs.available, 0);
  if (available > minAvailable) {
    const total = available - minAvailable;
    let scaled = 0;
    for (const rs of sizes) {
      if (scaled >= total) break;
      if (rs.to === 0) continue;
      const count = Math.min(rs.to, total - scaled);
      rs.to -= count;
      scaled += count;
    }
  }
  return sizes
    .filter((rs) => rs.to !== rs.replicas)
    .map((rs) => ({ name: rs.name, from: rs.replicas, to: rs.to }));
}

export interface ProportionalReplicaSet {
  readonly name: string;
  readonly replicas: number;
  readonly created: string;
  /** The deployment.kubernetes.io/max-replicas annotation: the deployment's size + surge it was scaled for. */
  readonly maxReplicas: number | undefined;
}

export interface ProportionalInput {
  readonly strategy: StrategyShape;
  /** The deployment's status.replicas, used for ReplicaSets without the annotation. */
  readonly statusReplicas: number;
  /** Active ReplicaSets (spec.replicas > 0), new and old. */
  readonly replicaSets: readonly ProportionalReplicaSet[];
}

/**
 * New sizes for every active ReplicaSet when a deployment is resized mid-rollout (Kubernetes' scale()):
 * each grows or shrinks by its share of the difference, rounded, and what rounding leaves over goes to
 * the largest. Returns one size per input ReplicaSet, in input order.
 */
export function proportionalSizes(input: ProportionalInput): Map<string, number> {
  const { strategy } = input;
  const current = input.replicaSets.reduce((sum, rs) => sum + rs.replicas, 0);
  const allowed = strategy.replicas > 0 ? strategy.replicas + maxSurgeOf(strategy) : 0;
  const toAdd = allowed - current;
  const sorted = [...input.replicaSets].sort((a, b) => {
    if (a.replicas !== b.replicas) return b.replicas - a.replicas;
    // Growing favours the newer of two equal ReplicaSets, shrinking the older.
    return toAdd > 0 ? byCreation(b, a) : byCreation(a, b);
  });
  const sizes = new Map<string, number>();
  let added = 0;
  for (const rs of sorted) {
    if (toAdd === 0 || rs.replicas === 0 || toAdd === added) {
      sizes.set(rs.name, rs.replicas);
      continue;
    }
    // A ReplicaSet without the annotation was sized for the deployment's last reported total.
    const sizedFor = rs.maxReplicas ?? (input.statusReplicas > 0 ? input.statusReplicas : current);
    const fraction =
      strategy.replicas === 0 ? -rs.replicas : Math.round((rs.replicas * allowed) / sizedFor) - rs.replicas;
    const room = toAdd - added;
    const share = toAdd > 0 ? Math.min(fraction, room) : Math.max(fraction, room);
    sizes.set(rs.name, rs.replicas + share);
    added += share;
  }
  const first = sorted[0];
  if (first && toAdd !== 0) sizes.set(first.name, Math.max(0, (sizes.get(first.name) ?? 0) + toAdd - added));
  return new Map(input.replicaSets.map((rs) => [rs.name, sizes.get(rs.name) ?? rs.replicas]));
}
