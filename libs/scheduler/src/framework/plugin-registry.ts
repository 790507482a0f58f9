// The default profile: which plugins run, in order, and how much each score counts. One literal.
import { balancedAllocation } from '../plugins/balanced-allocation.plugin';
import { leastAllocated } from '../plugins/least-allocated.plugin';
import { nodeAffinity } from '../plugins/node-affinity.plugin';
import { nodeResourcesFit } from '../plugins/node-resources-fit.plugin';
import { nodeUnschedulable } from '../plugins/node-unschedulable.plugin';
import { ownerSpread } from '../plugins/owner-spread.plugin';
import { taintToleration } from '../plugins/taint-toleration.plugin';
import type { FilterPlugin, ScorePlugin } from './plugin.types';

export interface SchedulerProfile {
  filters: readonly FilterPlugin[];
  scores: ReadonlyArray<{ plugin: ScorePlugin; weight: number }>;
}

export const DEFAULT_PROFILE: SchedulerProfile = {
  filters: [nodeUnschedulable, nodeAffinity, taintToleration, nodeResourcesFit],
  scores: [
    { plugin: leastAllocated, weight: 1 },
    { plugin: balancedAllocation, weight: 1 },
    { plugin: ownerSpread, weight: 2 },
  ],
};
