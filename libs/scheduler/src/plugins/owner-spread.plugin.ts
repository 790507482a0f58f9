// Score: spread the replicas of one owner (a ReplicaSet) across nodes, so losing a node loses few.
import type { ScorePlugin } from '../framework/plugin.types';
import { spreadScore } from './resource-scoring.util';

export const ownerSpread: ScorePlugin = {
  name: 'OwnerSpread',
  score(pod, nodeInfo, all) {
    if (!pod.ownerUid) return 0;
    const count = (pods: typeof nodeInfo.pods): number =>
      pods.filter((other) => other.ownerUid === pod.ownerUid).length;
    const most = Math.max(0, ...all.map((info) => count(info.pods)));
    return spreadScore(count(nodeInfo.pods), most);
  },
};
