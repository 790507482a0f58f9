export { schedulePod } from './framework/schedule-pod';
export { DEFAULT_PROFILE } from './framework/plugin-registry';
export type { SchedulerProfile } from './framework/plugin-registry';
export type { FilterPlugin, PreScorePlugin, ScheduleResult, ScorePlugin } from './framework/plugin.types';
export { CycleState, StateKey } from './framework/cycle-state';
export type { ScheduleOptions } from './framework/schedule-pod';
export { feasibleNodesToFind } from './framework/feasible-nodes.util';
export {
  SUCCESS,
  fitErrorMessage,
  isSuccess,
  pluginError,
  unresolvable,
  unschedulable,
} from './framework/status';
export type { Status, StatusCode } from './framework/status';
export { nodeView, podRequests, podView } from './framework/scheduling-views';
export { SchedulerCache, buildNodeInfos } from './cache/scheduler-cache';
export type { NodeInfo, NodeView, PodView, Resources, Taint, Toleration } from './framework/scheduling-views';
export { DEFAULT_SCHEDULER_NAME, SCHEDULER_API_CONNECTIONS, startScheduler } from './runner/scheduler-runner';
export type { RunningScheduler, SchedulerOptions } from './runner/scheduler-runner';
