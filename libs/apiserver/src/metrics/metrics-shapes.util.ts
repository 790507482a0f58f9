// NodeMetrics and PodMetrics in metrics-server's shapes, from a window of two samples. Worked example:
// pod web (uid u1) sampled at 10:00:00 with container main at 1.0 s of CPU and at 10:00:05 with 2.25 s
// and 64 MiB working set becomes {timestamp: "10:00:05", window: "5s", containers: [{name: "main",
// usage: {cpu: "250m", memory: "64Mi"}}]}. Like metrics-server, an object without a usable window (one
// sample so far, a restarted container, a pod recreated under the same name) is left out, not zeroed.
import type { ContainerMetrics, NodeMetrics, ObjectMeta, PodMetrics } from '@flotilla/api';
import type { NodeSample, PodSample, SampleWindow } from './usage-samples.store';
import { cpuRate, formatBytes, formatCores, formatWindow } from './usage-rate.util';

export interface MetricsObjectSource {
  metadata: Pick<ObjectMeta, 'name' | 'namespace' | 'uid' | 'labels'>;
}

export interface NodeMetricsInput {
  node: MetricsObjectSource;
  window: SampleWindow<NodeSample>;
  /** metrics-server stamps creationTimestamp with the time of the read. */
  now: Date;
}

export interface PodMetricsInput {
  pod: MetricsObjectSource;
  window: SampleWindow<PodSample>;
  now: Date;
}

function metadataOf(source: MetricsObjectSource, now: Date): ObjectMeta {
  const { name, namespace, labels } = source.metadata;
  return {
    name: name ?? '',
    ...(namespace !== undefined ? { namespace } : {}),
    creationTimestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(labels && Object.keys(labels).length > 0 ? { labels: { ...labels } } : {}),
  };
}

export function nodeMetricsOf(input: NodeMetricsInput): NodeMetrics | undefined {
  const { latest, previous } = input.window;
  if (!previous) return undefined;
  const rate = cpuRate(
    { time: previous.time, cpuNanos: previous.cpuNanos },
    { time: latest.time, cpuNanos: latest.cpuNanos },
  );
  if (!rate) return undefined;
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'NodeMetrics',
    metadata: metadataOf(input.node, input.now),
    timestamp: rate.timestamp,
    window: formatWindow(rate.windowMs),
    usage: { cpu: formatCores(rate.nanocores), memory: formatBytes(latest.memoryWorkingSetBytes) },
  };
}

export function podMetricsOf(input: PodMetricsInput): PodMetrics | undefined {
  const { latest, previous } = input.window;
  const uid = input.pod.metadata.uid;
  if (!previous || latest.uid !== previous.uid || (uid !== undefined && latest.uid !== uid)) return undefined;
  if (latest.containers.length === 0) return undefined;
  const containers: ContainerMetrics[] = [];
  let windowMs = 0;
  for (const container of latest.containers) {
    const before = previous.containers.find((candidate) => candidate.name === container.name);
    // A container that just started has no earlier sample: the pod waits for the next report.
    if (!before) return undefined;
    const rate = cpuRate(
      { time: previous.time, cpuNanos: before.cpuNanos },
      { time: latest.time, cpuNanos: container.cpuNanos },
    );
    if (!rate) return undefined;
    windowMs = rate.windowMs;
    containers.push({
      name: container.name,
      usage: { cpu: formatCores(rate.nanocores), memory: formatBytes(container.memoryWorkingSetBytes) },
    });
  }
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'PodMetrics',
    metadata: metadataOf(input.pod, input.now),
    timestamp: latest.time,
    window: formatWindow(windowMs),
    containers,
  };
}
