// Recent usage samples of nodes and pods, as the node agents report them over their gRPC streams
// (DESIGN.md §6). Each node and each pod has its own list of the two newest samples, the window a CPU
// rate needs, so a read for one namespace or one label selector fetches only the pods it names
// (the apiserver's pod cache resolves the selector) and never a whole node's report.
import type { SampleLists } from './sample-lists';

export interface ContainerSample {
  name: string;
  /** Cumulative CPU time of the container's cgroup. */
  cpuNanos: bigint;
  memoryWorkingSetBytes: bigint;
}

export interface NodeSample {
  nodeName: string;
  /** When the agent read the sample (its clock, RFC 3339): rates are measured between two of these. */
  time: string;
  cpuNanos: bigint;
  memoryWorkingSetBytes: bigint;
}

export interface PodSample {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  time: string;
  containers: ContainerSample[];
}

/** One node's report: the node's own usage and every pod it runs. */
export interface UsageReport {
  node: NodeSample;
  pods: Omit<PodSample, 'nodeName' | 'time'>[];
}

/** The newest sample and, once there is one, the sample before it. */
export interface SampleWindow<T> {
  latest: T;
  previous?: T;
}

export interface PodKey {
  namespace: string;
  name: string;
}

export interface UsageSamplesOptions {
  lists: SampleLists;
  /** How long a node's or pod's samples outlive its last report (default 15 s: 3 × the agents' 5 s). */
  ttlMs?: number;
}

export const DEFAULT_METRICS_TTL_MS = 15_000;

/** What NodeService sessions write into. */
export interface UsageSink {
  record(report: UsageReport): Promise<void>;
  forget(nodeName: string): Promise<void>;
}

const nodeKey = (name: string): string => `node/${name}`;
const podKey = (key: PodKey): string => `pod/${key.namespace}/${key.name}`;

interface StoredNode {
  t: string;
  c: string;
  m: string;
}

interface StoredPod {
  uid: string;
  node: string;
  t: string;
  containers: Array<{ n: string; c: string; m: string }>;
}

function decodeNode(name: string, text: string): NodeSample | undefined {
  try {
    const stored = JSON.parse(text) as StoredNode;
    return {
      nodeName: name,
      time: stored.t,
      cpuNanos: BigInt(stored.c),
      memoryWorkingSetBytes: BigInt(stored.m),
    };
  } catch {
    return undefined;
  }
}

function decodePod(key: PodKey, text: string): PodSample | undefined {
  try {
    const stored = JSON.parse(text) as StoredPod;
    return {
      namespace: key.namespace,
      name: key.name,
      uid: stored.uid,
      nodeName: stored.node,
      time: stored.t,
      containers: stored.containers.map((container) => ({
        name: container.n,
        cpuNanos: BigInt(container.c),
        memoryWorkingSetBytes: BigInt(container.m),
      })),
    };
  } catch {
    return undefined;
  }
}

function windowOf<T>(samples: readonly (T | undefined)[]): SampleWindow<T> | undefined {
  const [latest, previous] = samples;
  if (latest === undefined) return undefined;
  return previous === undefined ? { latest } : { latest, previous };
}

export class UsageSamples implements UsageSink {
  private readonly lists: SampleLists;
  readonly ttlMs: number;

  constructor(options: UsageSamplesOptions) {
    this.lists = options.lists;
    this.ttlMs = options.ttlMs ?? DEFAULT_METRICS_TTL_MS;
  }

  async record(report: UsageReport): Promise<void> {
    const { node } = report;
    const entries = [
      {
        key: nodeKey(node.nodeName),
        value: JSON.stringify({
          t: node.time,
          c: String(node.cpuNanos),
          m: String(node.memoryWorkingSetBytes),
        } satisfies StoredNode),
      },
      ...report.pods.map((pod) => ({
        key: podKey(pod),
        value: JSON.stringify({
          uid: pod.uid,
          node: node.nodeName,
          t: node.time,
          containers: pod.containers.map((container) => ({
            n: container.name,
            c: String(container.cpuNanos),
            m: String(container.memoryWorkingSetBytes),
          })),
        } satisfies StoredPod),
      })),
    ];
    await this.lists.push(entries, { keep: 2, ttlMs: this.ttlMs });
  }

  /** A deleted node's own samples go at once; its pods' expire with the TTL (they may have moved). */
  async forget(nodeName: string): Promise<void> {
    await this.lists.remove([nodeKey(nodeName)]);
  }

  async nodes(names: readonly string[]): Promise<Map<string, SampleWindow<NodeSample>>> {
    const lists = await this.lists.read(names.map(nodeKey));
    const windows = new Map<string, SampleWindow<NodeSample>>();
    names.forEach((name, index) => {
      const window = windowOf((lists[index] ?? []).map((text) => decodeNode(name, text)));
      if (window) windows.set(name, window);
    });
    return windows;
  }

  /** Keyed by "namespace/name". */
  async pods(keys: readonly PodKey[]): Promise<Map<string, SampleWindow<PodSample>>> {
    const lists = await this.lists.read(keys.map(podKey));
    const windows = new Map<string, SampleWindow<PodSample>>();
    keys.forEach((key, index) => {
      const window = windowOf((lists[index] ?? []).map((text) => decodePod(key, text)));
      if (window) windows.set(`${key.namespace}/${key.name}`, window);
    });
    return windows;
  }

  close(): Promise<void> {
    return this.lists.close();
  }
}
