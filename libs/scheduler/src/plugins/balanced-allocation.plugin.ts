// Score: prefer the node whose cpu and memory stay evenly used, so neither runs out while the other idles.
import type { ScorePlugin } from '../framework/plugin.types';
import { balancedAllocationScore, usedFractions } from './resource-scoring.util';

export const balancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  score: (pod, nodeInfo) => balancedAllocationScore(usedFractions(pod, nodeInfo)),
};
