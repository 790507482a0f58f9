// Arithmetic shared by the resource score plugins, on exact integers.
//
// Worked example: a node with 2000m cpu and 4Gi allocatable, 1000m and 1Gi requested (with the pod):
//   cpu fraction 0.5, memory fraction 0.25
//   least allocated = ((1 - 0.5) + (1 - 0.25)) / 2 × 100 = 62
//   balanced        = (1 - |0.5 - 0.25|) × 100 = 75
import type { NodeInfo, PodView } from '../framework/scheduling-views';

export const MAX_SCORE = 100;

/** Requested (with the pod) over allocatable, in [0, 1]; 1 when nothing is allocatable. */
export function usedFractions(pod: PodView, { node, requested }: NodeInfo): { cpu: number; memory: number } {
  const fraction = (used: bigint, total: bigint): number => {
    if (total <= 0n) return 1;
    const clamped = used > total ? total : used;
    // Scale to parts per million before leaving bigint so precision survives large byte counts.
    return Number((clamped * 1_000_000n) / total) / 1_000_000;
  };
  return {
    cpu: fraction(requested.milliCpu + pod.requests.milliCpu, node.allocatable.milliCpu),
    memory: fraction(requested.memoryBytes + pod.requests.memoryBytes, node.allocatable.memoryBytes),
  };
}

export function leastAllocatedScore(fractions: { cpu: number; memory: number }): number {
  return Math.floor(((1 - fractions.cpu + (1 - fractions.memory)) / 2) * MAX_SCORE);
}

export function balancedAllocationScore(fractions: { cpu: number; memory: number }): number {
  return Math.floor((1 - Math.abs(fractions.cpu - fractions.memory)) * MAX_SCORE);
}

/** Fewer replicas of the same owner on a node scores higher: (max − here) / max × 100. */
export function spreadScore(here: number, most: number): number {
  if (most === 0) return MAX_SCORE;
  return Math.floor(((most - here) / most) * MAX_SCORE);
}
