// What a rolling update promises at every instant, checked against the pods a test observes. The
// bounds are worked out here from Kubernetes' definition rather than taken from the controller, so a
// rounding mistake there is caught instead of shared.
//
// Worked example: replicas 9, maxSurge 25%, maxUnavailable 25%: surge rounds up (2.25 → 3),
// unavailable rounds down (2.25 → 2), so at every moment at most 12 pods run and at least 7 are
// Ready. A state with 12 active pods of which 7 Ready holds; 13 pods, or 6 Ready, breaks it.
// Pods being deleted (deletionTimestamp set, e.g. sleeping in preStop) do not count as active: the
// controller no longer counts them either, as in Kubernetes, so they are reported apart.
import type { IntOrString, KubeObject, Pod } from '@flotilla/api';

type PodObject = Pod & KubeObject;

export interface RolloutStrategy {
  replicas: number;
  maxSurge?: IntOrString;
  maxUnavailable?: IntOrString;
}

export interface RolloutBounds {
  maxPods: number;
  minReady: number;
}

function scaled(
  value: IntOrString | undefined,
  replicas: number,
  roundUp: boolean,
  fallback: string,
): number {
  const text = String(value ?? fallback);
  const percent = /^(\d+)%$/.exec(text);
  if (percent) {
    const exact = (Number(percent[1]) * replicas) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  if (/^\d+$/.test(text)) return Number(text);
  throw new Error(`"${text}" is neither a whole number nor a percentage such as "25%"`);
}

/** Kubernetes' defaults (25% each) and its rule that both zero means one may be unavailable. */
export function rolloutBounds(strategy: RolloutStrategy): RolloutBounds {
  const surge = scaled(strategy.maxSurge, strategy.replicas, true, '25%');
  let unavailable = scaled(strategy.maxUnavailable, strategy.replicas, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return {
    maxPods: strategy.replicas + surge,
    minReady: Math.max(0, strategy.replicas - Math.min(unavailable, strategy.replicas)),
  };
}

export interface PodCensus {
  /** Not terminating and not Succeeded/Failed. */
  active: number;
  /** Active and Ready. */
  ready: number;
  /** Deleted but still there (preStop, grace period). */
  terminating: number;
}

export function podCensus(pods: readonly PodObject[]): PodCensus {
  let active = 0;
  let ready = 0;
  let terminating = 0;
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    if (pod.metadata.deletionTimestamp !== undefined) {
      terminating++;
      continue;
    }
    active++;
    if ((pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')) ready++;
  }
  return { active, ready, terminating };
}

/** Undefined when the state keeps the promise, else what is wrong, for the test's failure list. */
export function rolloutViolation(bounds: RolloutBounds, census: PodCensus): string | undefined {
  const problems: string[] = [];
  if (census.active > bounds.maxPods) problems.push(`${census.active} pods > ${bounds.maxPods} allowed`);
  if (census.ready < bounds.minReady) problems.push(`${census.ready} Ready < ${bounds.minReady} required`);
  return problems.length === 0 ? undefined : problems.join(', ');
}

/**
 * Collects every observed state of a rollout: a test calls observe() from its pod informer's handlers
 * and reads the extremes and violations at the end.
 */
export class RolloutWatch {
  readonly violations: string[] = [];
  observations = 0;
  peakActive = 0;
  lowestReady = Number.POSITIVE_INFINITY;
  peakTerminating = 0;

  constructor(readonly bounds: RolloutBounds) {}

  observe(pods: readonly PodObject[], label = ''): void {
    const census = podCensus(pods);
    this.observations++;
    this.peakActive = Math.max(this.peakActive, census.active);
    this.lowestReady = Math.min(this.lowestReady, census.ready);
    this.peakTerminating = Math.max(this.peakTerminating, census.terminating);
    const violation = rolloutViolation(this.bounds, census);
    // Bounded: a broken rollout would otherwise fill memory with the same complaint.
    if (violation !== undefined && this.violations.length < 50) {
      this.violations.push(label === '' ? violation : `${label}: ${violation}`);
    }
  }
}
