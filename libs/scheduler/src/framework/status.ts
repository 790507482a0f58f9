// Plugin results as Kubernetes' scheduler framework reports them: a closed set of codes and the
// reasons users read in "0/3 nodes are available: 3 Insufficient memory." Plugins return these;
// they never throw for an ordinary "does not fit".
export type StatusCode = 'Success' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error' | 'Skip';

export interface Status {
  readonly code: StatusCode;
  readonly reasons: readonly string[];
  /** The plugin that decided, for events and logs. */
  readonly plugin?: string;
}

export const SUCCESS: Status = { code: 'Success', reasons: [] };

export function unschedulable(plugin: string, ...reasons: string[]): Status {
  return { code: 'Unschedulable', reasons, plugin };
}

/** Preemption or waiting cannot help: e.g. the node is cordoned or its labels do not match. */
export function unresolvable(plugin: string, ...reasons: string[]): Status {
  return { code: 'UnschedulableAndUnresolvable', reasons, plugin };
}

export function pluginError(plugin: string, reason: string): Status {
  return { code: 'Error', reasons: [reason], plugin };
}

export function isSuccess(status: Status): boolean {
  return status.code === 'Success' || status.code === 'Skip';
}

/**
 * Kubernetes' FitError message: reasons counted across nodes, sorted, e.g.
 * "0/3 nodes are available: 1 Insufficient cpu, 2 Insufficient memory."
 */
export function fitErrorMessage(nodeCount: number, statuses: ReadonlyMap<string, Status>): string {
  const counts = new Map<string, number>();
  for (const status of statuses.values()) {
    for (const reason of status.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  const parts = [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([reason, count]) => `${count} ${reason}`);
  if (nodeCount === 0) return '0/0 nodes are available: no nodes are registered.';
  return `0/${nodeCount} nodes are available: ${parts.join(', ')}.`;
}
