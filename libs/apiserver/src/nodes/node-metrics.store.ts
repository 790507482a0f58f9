// The latest usage report of each node, kept in this apiserver's memory until metrics move to Redis
// with a TTL (DESIGN.md §6); readers go through NodeMetricsReader so that move changes no caller.
export interface ContainerUsage {
  name: string;
  /** Cumulative CPU time. */
  cpuUsageNanos: bigint;
  memoryWorkingSetBytes: bigint;
}

export interface PodUsage {
  namespace: string;
  name: string;
  uid: string;
  containers: ContainerUsage[];
}

export interface NodeMetrics {
  nodeName: string;
  /** When the agent read the sample (its clock, RFC 3339). */
  time: string;
  /** When this apiserver received it. */
  receivedAt: Date;
  nodeCpuUsageNanos: bigint;
  nodeMemoryWorkingSetBytes: bigint;
  pods: PodUsage[];
}

export interface NodeMetricsReader {
  latest(nodeName: string): NodeMetrics | undefined;
  all(): NodeMetrics[];
}

export interface NodeMetricsSink {
  record(metrics: NodeMetrics): void;
  forget(nodeName: string): void;
}

export class InMemoryNodeMetrics implements NodeMetricsReader, NodeMetricsSink {
  private readonly byNode = new Map<string, NodeMetrics>();

  record(metrics: NodeMetrics): void {
    this.byNode.set(metrics.nodeName, metrics);
  }

  forget(nodeName: string): void {
    this.byNode.delete(nodeName);
  }

  latest(nodeName: string): NodeMetrics | undefined {
    return this.byNode.get(nodeName);
  }

  all(): NodeMetrics[] {
    return [...this.byNode.values()].sort((a, b) => (a.nodeName < b.nodeName ? -1 : 1));
  }
}
