// When a node counts as gone, from its heartbeats, as Kubernetes' node lifecycle controller decides.
//
// Worked example: grace 15 s, eviction 30 s. The node's Lease was last renewed at 10:00:00.
//   10:00:10 → healthy (10 s since the heartbeat)
//   10:00:16 → unreachable: Ready becomes Unknown and the node is tainted NoExecute
//   10:00:46 → its pods are evicted (deleted), so their owners replace them on other nodes
// A heartbeat at any point makes it healthy again and lifts the taint.

export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';

export interface NodeHeartbeat {
  /** The newest of the node Lease's renewTime and the Ready condition's lastHeartbeatTime. */
  lastHeartbeat?: Date;
  /** When the node was registered: a node that never reported gets the grace period from here. */
  createdAt?: Date;
}

export type NodeHealth =
  { kind: 'healthy' } | { kind: 'unreachable'; since: Date } | { kind: 'evict'; since: Date };

export function nodeHealth(options: {
  heartbeat: NodeHeartbeat;
  now: Date;
  gracePeriodMs: number;
  evictionTimeoutMs: number;
}): NodeHealth {
  const { heartbeat, now, gracePeriodMs, evictionTimeoutMs } = options;
  const last = heartbeat.lastHeartbeat ?? heartbeat.createdAt;
  if (!last) return { kind: 'healthy' };
  const silentFor = now.getTime() - last.getTime();
  if (silentFor <= gracePeriodMs) return { kind: 'healthy' };
  const since = new Date(last.getTime() + gracePeriodMs);
  return silentFor > gracePeriodMs + evictionTimeoutMs
    ? { kind: 'evict', since }
    : { kind: 'unreachable', since };
}

/** The later of two optional timestamps (RFC 3339 strings), as a Date. */
export function latest(...stamps: Array<string | undefined>): Date | undefined {
  let best: number | undefined;
  for (const stamp of stamps) {
    const time = stamp ? Date.parse(stamp) : Number.NaN;
    if (!Number.isNaN(time) && (best === undefined || time > best)) best = time;
  }
  return best === undefined ? undefined : new Date(best);
}
