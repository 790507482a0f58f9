// The seam between the two halves of the node agent: the connection to the apiserver (registration,
// the Connect stream, the AgentService for logs and exec) and the pod engine that turns desired pods
// into containers through @flotilla/runtime. The connection only ever talks to `NodePods`; the pod
// engine never knows about gRPC. Both sides are tested alone against this contract.
import type { Readable, Writable } from 'node:stream';
import type { Pod, PodStatus } from '@flotilla/api';

/** A pod's observed status, as the agent reports it upward. */
export interface PodStatusReport {
  namespace: string;
  name: string;
  uid: string;
  status: PodStatus;
  /**
   * Every container has stopped and the pod's sandbox, cgroup and volumes are released. For a pod
   * with a deletionTimestamp this is the signal that the apiserver may remove the object (what
   * kubelet's final `DELETE gracePeriodSeconds=0` does in Kubernetes).
   */
  released: boolean;
}

export interface PodLogsRequest {
  namespace: string;
  pod: string;
  /** Required when the pod has more than one container. */
  container?: string;
  follow: boolean;
  /** The previous (terminated) instance of the container, as `kubectl logs --previous`. */
  previous: boolean;
  /** Only the last N lines; absent: all. */
  tailLines?: number;
  /** Only lines newer than this many seconds; absent: from the start. */
  sinceSeconds?: number;
  /** Prefix each line with its RFC 3339 timestamp. */
  timestamps: boolean;
}

export interface PodExecRequest {
  namespace: string;
  pod: string;
  container?: string;
  command: string[];
  tty: boolean;
  stdin: boolean;
}

export interface PodExecSession {
  /** Present when `stdin` was asked for; end() closes the process's stdin. */
  stdin?: Writable;
  stdout: Readable;
  /** Absent with a tty (stderr is merged into the terminal, as in Kubernetes). */
  stderr?: Readable;
  resize(size: { rows: number; columns: number }): void;
  /** The process's exit code (128 + signal when killed by a signal). */
  exited: Promise<number>;
}

export interface ContainerUsageSample {
  name: string;
  /** Cumulative CPU time. */
  cpuUsageNanos: bigint;
  memoryWorkingSetBytes: number;
}

export interface PodUsageSample {
  namespace: string;
  name: string;
  uid: string;
  containers: ContainerUsageSample[];
}

export interface NodeUsageSample {
  /** When the sample was read (RFC 3339). */
  time: string;
  nodeCpuUsageNanos: bigint;
  nodeMemoryWorkingSetBytes: number;
  pods: PodUsageSample[];
}

export type NodePodsErrorCode = 'NotFound' | 'BadRequest' | 'Conflict' | 'Internal';

/** What logs and exec fail with; the apiserver maps the code to an HTTP status (404, 400, 409, 500). */
export class NodePodsError extends Error {
  constructor(
    readonly code: NodePodsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NodePodsError';
  }
}

/**
 * The pod engine of one node. Level-triggered: whatever sequence of calls arrives, it converges the
 * node on the last desired set, and it survives its own restart (containers keep running under
 * their shims and are re-adopted with the same IDs and restart counts).
 */
export interface NodePods {
  /** The complete desired set for this node (sent on every (re)connect): pods absent here are stopped and released. */
  replaceDesired(pods: readonly Pod[]): void;
  /** A pod bound to this node was added or changed (a deletionTimestamp means: terminate gracefully). */
  upsertDesired(pod: Pod): void;
  /** The pod object is gone from the API: stop its containers now and release it. */
  removeDesired(uid: string): void;
  /** Called on every change of a pod's reported status; returns an unsubscribe function. */
  onStatus(listener: (report: PodStatusReport) => void): () => void;
  /** The latest status of every pod the engine knows (re-sent upward after a reconnect). */
  currentStatuses(): PodStatusReport[];
  /** CPU and memory read from the node's and the pods' cgroups. */
  usage(): Promise<NodeUsageSample>;
  logs(request: PodLogsRequest): Promise<Readable>;
  exec(request: PodExecRequest): Promise<PodExecSession>;
  /** Stops the engine's loops (probes, restarts); containers are left running for the next agent. */
  close(): Promise<void>;
}
