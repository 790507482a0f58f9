// One interface per extension point, as in Kubernetes' scheduler framework.
import type { CycleState } from './cycle-state';
import type { NodeInfo, PodView } from './scheduling-views';
import type { Status } from './status';

export interface FilterPlugin {
  readonly name: string;
  /** Can `pod` run on this node? Unschedulable with reasons if not. */
  filter(pod: PodView, nodeInfo: NodeInfo): Status;
}

export interface PreScorePlugin {
  readonly name: string;
  /** Runs once per cycle over the feasible nodes; writes what Score needs into the cycle state. */
  preScore(pod: PodView, feasible: readonly NodeInfo[], state: CycleState): void;
}

export interface ScorePlugin {
  readonly name: string;
  /** 0–100: how good the node is for the pod. */
  score(pod: PodView, nodeInfo: NodeInfo, state: CycleState): number;
}

/** The node the pod should go to, or why none will do. */
export type ScheduleResult =
  | {
      kind: 'scheduled';
      nodeName: string;
      scores: ReadonlyMap<string, number>;
      /** Nodes filtered this cycle: the next search starts after them. */
      evaluatedNodes: number;
    }
  | { kind: 'unschedulable'; message: string; statuses: ReadonlyMap<string, Status> };
