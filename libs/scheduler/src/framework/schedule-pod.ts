// One scheduling cycle: filter every node, score the feasible ones, pick the best (ties broken by
// name so the result is deterministic). Binding is the caller's: a conditional write through the API.
import type { ScheduleResult } from './plugin.types';
import { DEFAULT_PROFILE, type SchedulerProfile } from './plugin-registry';
import type { NodeInfo, PodView } from './scheduling-views';
import { SUCCESS, fitErrorMessage, isSuccess, type Status } from './status';

export function schedulePod(
  pod: PodView,
  nodes: readonly NodeInfo[],
  profile: SchedulerProfile = DEFAULT_PROFILE,
): ScheduleResult {
  const statuses = new Map<string, Status>();
  const feasible: NodeInfo[] = [];
  for (const info of nodes) {
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
  const scores = new Map<string, number>();
  for (const info of feasible) {
    let total = 0;
    for (const { plugin, weight } of profile.scores) total += weight * plugin.score(pod, info, feasible);
    scores.set(info.node.name, total);
  }
  const [best] = [...scores.entries()].sort(([nameA, a], [nameB, b]) => b - a || (nameA < nameB ? -1 : 1));
  if (!best) return { kind: 'unschedulable', message: fitErrorMessage(nodes.length, statuses), statuses };
  return { kind: 'scheduled', nodeName: best[0], scores };
}
