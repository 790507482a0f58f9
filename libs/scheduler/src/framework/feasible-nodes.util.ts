// How many feasible nodes a cycle looks for before it stops filtering, as kube-scheduler's
// percentageOfNodesToScore: small clusters are searched fully; large ones until an adaptive share
// of the nodes has been found feasible, the search starting where the previous cycle stopped so
// every node gets its turn.
//
// Worked example: 1,000 nodes → 50 − 1000/125 = 42 % → stop after 420 feasible nodes; 5,000 nodes →
// 10 % → 500; 10,000 nodes → 5 % (the floor) → 500; 80 nodes → all 80 (below the minimum of 100).
const MIN_FEASIBLE_NODES = 100;
const BASE_PERCENTAGE = 50;
const MIN_PERCENTAGE = 5;

/** `percentage` 0 or absent: adaptive, as kube-scheduler's default. */
export function feasibleNodesToFind(allNodes: number, percentage = 0): number {
  if (allNodes < MIN_FEASIBLE_NODES) return allNodes;
  let share = percentage;
  if (share <= 0) share = Math.max(MIN_PERCENTAGE, BASE_PERCENTAGE - Math.floor(allNodes / 125));
  if (share >= 100) return allNodes;
  return Math.max(MIN_FEASIBLE_NODES, Math.floor((allNodes * share) / 100));
}
