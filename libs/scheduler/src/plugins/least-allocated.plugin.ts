// Score: prefer the node with the most room left, so load spreads across nodes.
import type { ScorePlugin } from '../framework/plugin.types';
import { leastAllocatedScore, usedFractions } from './resource-scoring.util';

export const leastAllocated: ScorePlugin = {
  name: 'NodeResourcesLeastAllocated',
  score: (pod, nodeInfo) => leastAllocatedScore(usedFractions(pod, nodeInfo)),
};
