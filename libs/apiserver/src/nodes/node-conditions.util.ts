// Folds an agent's heartbeat into the Node's status conditions, as kubelet's status updates do:
// every reported condition gets lastHeartbeatTime = now, lastTransitionTime moves only when its status
// changes, and conditions the agent does not report (set by others) are kept. The Node is written only
// when something changed or the last write is older than the report interval; in between, the node's
// Lease carries liveness (kubelet's nodeStatusReportFrequency and node leases).
//
// Worked example, report interval 60 s: Ready=True stored at 10:00:00 (heartbeat and transition).
//   heartbeat Ready=True  at 10:00:10 → no write
//   heartbeat Ready=True  at 10:01:00 → write, lastHeartbeatTime 10:01:00, lastTransitionTime 10:00:00
//   heartbeat Ready=False at 10:01:05 → write, both times 10:01:05
import { kubeTimestamp, type NodeCondition } from '@flotilla/api';

export interface ReportedCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface HeartbeatMerge {
  conditions: NodeCondition[];
  /** False: nothing changed and the stored heartbeat is recent enough; leave the Node alone. */
  write: boolean;
}

export class HeartbeatError extends Error {
  override readonly name = 'HeartbeatError';
}

const STATUSES = new Set(['True', 'False', 'Unknown']);

export function mergeHeartbeat(options: {
  existing: readonly NodeCondition[];
  reported: readonly ReportedCondition[];
  now: Date;
  reportIntervalMs: number;
}): HeartbeatMerge {
  const { existing, reported, now, reportIntervalMs } = options;
  const stamp = kubeTimestamp(now);
  const byType = new Map(existing.map((condition) => [condition.type, condition]));
  const seen = new Set<string>();
  let write = false;
  const updates = new Map<string, NodeCondition>();
  for (const condition of reported) {
    if (condition.type === '' || !STATUSES.has(condition.status)) {
      throw new HeartbeatError(
        `heartbeat condition ${JSON.stringify(condition.type)} has status ${JSON.stringify(condition.status)}: ` +
          'each condition needs a type and a status of True, False or Unknown',
      );
    }
    if (seen.has(condition.type)) {
      throw new HeartbeatError(`heartbeat reports condition ${condition.type} twice; send each type once`);
    }
    seen.add(condition.type);
    const before = byType.get(condition.type);
    const transitioned = before?.status !== condition.status;
    const stale =
      before?.lastHeartbeatTime === undefined ||
      now.getTime() - Date.parse(before.lastHeartbeatTime) >= reportIntervalMs;
    if (
      transitioned ||
      stale ||
      (before.reason ?? '') !== condition.reason ||
      (before.message ?? '') !== condition.message
    ) {
      write = true;
    }
    const merged: NodeCondition = {
      type: condition.type,
      status: condition.status as NodeCondition['status'],
      lastHeartbeatTime: stamp,
      lastTransitionTime: transitioned ? stamp : (before.lastTransitionTime ?? stamp),
    };
    if (condition.reason !== '') merged.reason = condition.reason;
    if (condition.message !== '') merged.message = condition.message;
    updates.set(condition.type, merged);
  }
  if (!write) return { conditions: [...existing], write: false };
  const conditions = existing.map((condition) => updates.get(condition.type) ?? condition);
  for (const [type, condition] of updates) if (!byType.has(type)) conditions.push(condition);
  return { conditions, write: true };
}
