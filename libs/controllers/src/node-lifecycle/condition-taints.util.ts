// Taints from node conditions, as Kubernetes' node lifecycle controller keeps them with
// TaintNodesByCondition (doNoScheduleTaintingPass): each condition in a bad state puts a NoSchedule
// taint on the node, which the scheduler's taint filter honours, and the taint goes when the condition
// recovers. Only these NoSchedule taints are managed here; the unreachable NoExecute taint (and its
// evictions) stays with the heartbeat logic, and every other taint is left as it is.
//
// Worked example: a node with MemoryPressure=True, DiskPressure=False and Ready=True, tainted
// node.kubernetes.io/disk-pressure:NoSchedule from earlier and dedicated=db:NoSchedule by its owner →
//   taints become dedicated=db:NoSchedule, node.kubernetes.io/memory-pressure:NoSchedule (timeAdded now)
// so new BestEffort pods (the only ones without the memory-pressure toleration) stay off it.

export interface NodeTaint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface ConditionLike {
  type: string;
  status: string;
}

/** Condition type → the status that taints → the taint's key (Kubernetes' nodeConditionToTaintKeyStatusMap, less Ready=Unknown). */
const CONDITION_TAINTS: ReadonlyArray<{ type: string; status: string; key: string }> = [
  { type: 'Ready', status: 'False', key: 'node.kubernetes.io/not-ready' },
  { type: 'MemoryPressure', status: 'True', key: 'node.kubernetes.io/memory-pressure' },
  { type: 'DiskPressure', status: 'True', key: 'node.kubernetes.io/disk-pressure' },
  { type: 'PIDPressure', status: 'True', key: 'node.kubernetes.io/pid-pressure' },
  { type: 'NetworkUnavailable', status: 'True', key: 'node.kubernetes.io/network-unavailable' },
];

const MANAGED_KEYS = new Set(CONDITION_TAINTS.map((entry) => entry.key));

/** The NoSchedule taint keys the conditions call for. */
export function conditionTaintKeys(conditions: readonly ConditionLike[]): string[] {
  return CONDITION_TAINTS.filter((entry) =>
    conditions.some((condition) => condition.type === entry.type && condition.status === entry.status),
  ).map((entry) => entry.key);
}

/**
 * The node's taints with the condition taints brought in line, or undefined when nothing changes (no
 * write). A managed taint already present keeps its timeAdded.
 */
export function reconcileConditionTaints(options: {
  taints: readonly NodeTaint[];
  conditions: readonly ConditionLike[];
  now: string;
}): NodeTaint[] | undefined {
  const wanted = new Set(conditionTaintKeys(options.conditions));
  const isManaged = (taint: NodeTaint): boolean =>
    MANAGED_KEYS.has(taint.key) && taint.effect === 'NoSchedule';
  const kept = options.taints.filter((taint) => !isManaged(taint) || wanted.has(taint.key));
  const present = new Set(kept.filter(isManaged).map((taint) => taint.key));
  const added = [...wanted]
    .filter((key) => !present.has(key))
    .map((key): NodeTaint => ({ key, effect: 'NoSchedule', timeAdded: options.now }));
  if (added.length === 0 && kept.length === options.taints.length) return undefined;
  return [...kept, ...added];
}
