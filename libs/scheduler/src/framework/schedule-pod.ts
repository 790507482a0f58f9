// One scheduling cycle: filter nodes (starting where the last cycle stopped, until enough feasible
// ones are found), pre-score and score the feasible ones, pick the best. Ties are broken at random,
// as kube-scheduler does, so equal nodes share the load instead of the first name taking it all.
// Binding is the caller's: a conditional write through the API.
import { CycleState } from './cycle-state';
import { feasibleNodesToFind } from './feasible-nodes.util';
import type { PreScorePlugin, ScheduleResult, ScorePlugin } from './plugin.types';
import { DEFAULT_PROFILE, type SchedulerProfile } from './plugin-registry';
import type { NodeInfo, PodView } from './scheduling-views';
import { SUCCESS, fitErrorMessage, isSuccess, type Status } from './status';

export interface ScheduleOptions {
  /** Where in `nodes` the search begins (the caller rotates it by `evaluatedNodes`). */
  startIndex?: number;
  /** kube-scheduler's percentageOfNodesToScore; 0 or absent is adaptive. */
  percentageOfNodesToScore?: number;
  /** [0, 1), for tie-breaking; tests pass a fixed sequence. */
  random?: () => number;
}

function hasPreScore(plugin: ScorePlugin): plugin is ScorePlugin & PreScorePlugin {
  return typeof (plugin as Partial<PreScorePlugin>).preScore === 'function';
}

export function schedulePod(
  pod: PodView,
  nodes: readonly NodeInfo[],
  profile: SchedulerProfile = DEFAULT_PROFILE,
  options: ScheduleOptions = {},
): ScheduleResult {
  const statuses = new Map<string, Status>();
  const feasible: NodeInfo[] = [];
  const wanted = feasibleNodesToFind(nodes.length, options.percentageOfNodesToScore);
  const start = nodes.length === 0 ? 0 : (options.startIndex ?? 0) % nodes.length;
  let evaluated = 0;
  for (; evaluated < nodes.length && feasible.length < wanted; evaluated++) {
    const info = nodes[(start + evaluated) % nodes.length];
    if (!info) continue;
    let verdict: Status = SUCCESS;
    for (const plugin of profile.filters) {
      const status = plugin.filter(pod, info);
      if (!isSuccess(status)) {
        verdict = status;
        break;
      }
    }
    if (isSuccess(verdict)) feasible.push(info);
    else statuses.set(info.node.name, verdict);
  }
  if (feasible.length === 0)
    return { kind: 'unschedulable', message: fitErrorMessage(nodes.length, statuses), statuses };

  const state = new CycleState();
  for (const { plugin } of profile.scores) if (hasPreScore(plugin)) plugin.preScore(pod, feasible, state);
  const random = options.random ?? Math.random;
  const scores = new Map<string, number>();
  let best: string | undefined;
  let bestScore = -Infinity;
  let ties = 0;
  for (const info of feasible) {
    let total = 0;
    for (const { plugin, weight } of profile.scores) total += weight * plugin.score(pod, info, state);
    scores.set(info.node.name, total);
    if (total > bestScore) {
      best = info.node.name;
      bestScore = total;
      ties = 1;
    } else if (total === bestScore) {
      // Reservoir sampling: each of the k tied nodes ends up chosen with probability 1/k.
      ties += 1;
      if (random() * ties < 1) best = info.node.name;
    }
  }
  if (best === undefined)
    return { kind: 'unschedulable', message: fitErrorMessage(nodes.length, statuses), statuses };
  return { kind: 'scheduled', nodeName: best, scores, evaluatedNodes: evaluated };
}
