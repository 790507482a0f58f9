// Score: spread the replicas of one owner (a ReplicaSet) across nodes, so losing a node loses few.
import { StateKey } from '../framework/cycle-state';
import type { PreScorePlugin, ScorePlugin } from '../framework/plugin.types';
import { spreadScore } from './resource-scoring.util';

/** The most replicas of the pod's owner on any feasible node, found once per cycle. */
const MOST_REPLICAS = new StateKey<number>('OwnerSpread/mostReplicas');

export const ownerSpread: PreScorePlugin & ScorePlugin = {
  name: 'OwnerSpread',
  preScore(pod, feasible, state) {
    if (!pod.ownerUid) return;
    let most = 0;
    for (const info of feasible) most = Math.max(most, info.ownerCounts.get(pod.ownerUid) ?? 0);
    state.write(MOST_REPLICAS, most);
  },
  score(pod, nodeInfo, state) {
    if (!pod.ownerUid) return 0;
    const here = nodeInfo.ownerCounts.get(pod.ownerUid) ?? 0;
    return spreadScore(here, state.read(MOST_REPLICAS) ?? here);
  },
};
