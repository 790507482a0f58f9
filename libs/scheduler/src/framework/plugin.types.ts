// One interface per extension point, as in Kubernetes' scheduler framework.
import type { NodeInfo, PodView } from './scheduling-views';
import type { Status } from './status';

export interface FilterPlugin {
  readonly name: string;
  /** Can `pod` run on this node? Unschedulable with reasons if not. */
  filter(pod: PodView, nodeInfo: NodeInfo): Status;
}

export interface ScorePlugin {
  readonly name: string;
  /** 0–100: how good the node is for the pod. `all` are the feasible nodes, for relative scores. */
  score(pod: PodView, nodeInfo: NodeInfo, all: readonly NodeInfo[]): number;
}

/** The node the pod should go to, or why none will do. */
export type ScheduleResult =
  | { kind: 'scheduled'; nodeName: string; scores: ReadonlyMap<string, number> }
  | { kind: 'unschedulable'; message: string; statuses: ReadonlyMap<string, Status> };
