// A pod engine with a fake runtime, for hollow nodes (Kubernetes' kubemark): the agent's connection
// code runs unchanged in front of it, but no process, cgroup or network namespace is ever made. Each
// desired pod is reported ContainerCreating at once and Running after a short fixed delay; a deleted
// pod is reported stopped and released after the same delay. Statuses come from the real engine's
// computePodStatus, so the apiserver, the scheduler and controllers see exactly the shapes a real
// node writes (phase, conditions, containerStatuses with running state and container IDs).
import type { Container, Pod, PodStatus } from '@flotilla/api';
import { kubeTimestamp } from '@flotilla/api';
import {
  NodePodsError,
  type NodePods,
  type NodeUsageSample,
  type PodStatusReport,
} from '../pods/node-pods.types';
import { computePodStatus, type ContainerObservation, type TerminatedState } from '../pods/pod-status.util';
import { podAddress, podAddressCount } from './pod-address.util';

export interface HollowNodePodsOptions {
  /** The node's name, for error messages. */
  nodeName: string;
  /** The node's address, reported as every pod's hostIP. */
  nodeIP?: string;
  /** The node's pod range (from Register): each running pod gets a free address of it as podIP. */
  podCidr?: string;
  /** How long the fake runtime takes to start a pod's containers (default 5 ms). */
  startDelayMs?: number;
  /** How long it takes to stop them once the pod is deleted (default 5 ms). */
  stopDelayMs?: number;
}

type Stage = 'starting' | 'running' | 'stopping';

interface HollowPod {
  pod: Pod;
  stage: Stage;
  startTime: string;
  startedAt?: string;
  finishedAt?: string;
  slot?: number;
  timer?: NodeJS.Timeout;
  last?: PodStatusReport;
}

const DEFAULT_DELAY_MS = 5;

function containerId(uid: string, name: string): string {
  return `hollow://${uid}/${name}`;
}

export class HollowNodePods implements NodePods {
  private readonly pods = new Map<string, HollowPod>();
  private readonly listeners = new Set<(report: PodStatusReport) => void>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private readonly slotCount: number;
  private closed = false;

  constructor(private readonly options: HollowNodePodsOptions) {
    this.slotCount = options.podCidr === undefined ? 0 : podAddressCount(options.podCidr);
  }

  replaceDesired(pods: readonly Pod[]): void {
    const wanted = new Set<string>();
    for (const pod of pods) {
      if (pod.metadata.uid !== undefined) wanted.add(pod.metadata.uid);
      this.upsertDesired(pod);
    }
    for (const uid of [...this.pods.keys()]) if (!wanted.has(uid)) this.removeDesired(uid);
  }

  upsertDesired(pod: Pod): void {
    const uid = pod.metadata.uid;
    if (this.closed || uid === undefined || pod.metadata.name === undefined) return;
    let entry = this.pods.get(uid);
    if (!entry) {
      entry = { pod, stage: 'starting', startTime: kubeTimestamp() };
      this.pods.set(uid, entry);
      this.report(uid, entry);
      const started = entry;
      started.timer = setTimeout(() => this.run(uid, started), this.options.startDelayMs ?? DEFAULT_DELAY_MS);
    }
    if (entry.stage === 'stopping') return;
    entry.pod = pod;
    if (pod.metadata.deletionTimestamp) this.stop(uid, entry);
  }

  removeDesired(uid: string): void {
    const entry = this.pods.get(uid);
    if (entry && entry.stage !== 'stopping') this.stop(uid, entry);
  }

  onStatus(listener: (report: PodStatusReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  currentStatuses(): PodStatusReport[] {
    return [...this.pods.values()].flatMap((entry) => (entry.last ? [entry.last] : []));
  }

  /** Hollow containers use nothing; the zeros still exercise the metrics path upward. */
  usage(): Promise<NodeUsageSample> {
    return Promise.resolve({
      time: new Date().toISOString(),
      nodeCpuUsageNanos: 0n,
      nodeMemoryWorkingSetBytes: 0,
      pods: [...this.pods.values()]
        .filter((entry) => entry.stage === 'running')
        .map((entry) => ({
          namespace: entry.pod.metadata.namespace ?? 'default',
          name: entry.pod.metadata.name ?? '',
          uid: entry.pod.metadata.uid ?? '',
          containers: entry.pod.spec.containers.map((container) => ({
            name: container.name,
            cpuUsageNanos: 0n,
            memoryWorkingSetBytes: 0,
          })),
        })),
    });
  }

  logs(): Promise<never> {
    return Promise.reject(this.noProcesses('logs'));
  }

  exec(): Promise<never> {
    return Promise.reject(this.noProcesses('exec'));
  }

  close(): Promise<void> {
    this.closed = true;
    for (const entry of this.pods.values()) clearTimeout(entry.timer);
    return Promise.resolve();
  }

  private noProcesses(what: string): NodePodsError {
    return new NodePodsError(
      'BadRequest',
      `${this.options.nodeName} is a hollow node: its pods run no processes, so ${what} has nothing to show; use a real node agent for ${what}`,
    );
  }

  private run(uid: string, entry: HollowPod): void {
    if (this.closed || this.pods.get(uid) !== entry || entry.stage !== 'starting') return;
    entry.stage = 'running';
    entry.startedAt = kubeTimestamp();
    entry.slot = this.takeSlot();
    this.report(uid, entry);
  }

  private stop(uid: string, entry: HollowPod): void {
    clearTimeout(entry.timer);
    const wasRunning = entry.stage === 'running';
    entry.stage = 'stopping';
    entry.timer = setTimeout(() => {
      if (this.closed) return;
      if (wasRunning) {
        entry.finishedAt = kubeTimestamp();
        this.report(uid, entry);
      }
      this.pods.delete(uid);
      if (entry.slot !== undefined) this.freeSlots.push(entry.slot);
      this.report(uid, entry, true);
    }, this.options.stopDelayMs ?? DEFAULT_DELAY_MS);
  }

  private takeSlot(): number | undefined {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    if (this.nextSlot >= this.slotCount) return undefined;
    return this.nextSlot++;
  }

  private observations(entry: HollowPod, containers: readonly Container[], init: boolean) {
    const uid = entry.pod.metadata.uid ?? '';
    const observed = new Map<string, ContainerObservation>();
    if (entry.startedAt === undefined) return observed;
    for (const container of containers) {
      const terminated: TerminatedState | undefined =
        init || entry.finishedAt !== undefined
          ? {
              exitCode: 0,
              reason: 'Completed',
              startedAt: entry.startedAt,
              finishedAt: entry.finishedAt ?? entry.startedAt,
              containerID: containerId(uid, container.name),
            }
          : undefined;
      observed.set(container.name, {
        state: terminated ? { terminated } : { running: { startedAt: entry.startedAt } },
        restartCount: 0,
        image: container.image ?? '',
        imageID: `hollow://${container.image ?? ''}`,
        containerID: containerId(uid, container.name),
        // The fake runtime has no probes to run: every container counts as started and ready.
        startupSucceeded: true,
        readinessSucceeded: true,
      });
    }
    return observed;
  }

  private report(uid: string, entry: HollowPod, released = false): void {
    const { pod } = entry;
    const podIP =
      entry.slot !== undefined && this.options.podCidr !== undefined
        ? podAddress(this.options.podCidr, entry.slot)
        : undefined;
    const status: PodStatus = computePodStatus({
      pod,
      containers: this.observations(entry, pod.spec.containers, false),
      initContainers: this.observations(entry, pod.spec.initContainers ?? [], true),
      ...(podIP !== undefined ? { podIP } : {}),
      ...(this.options.nodeIP !== undefined ? { hostIP: this.options.nodeIP } : {}),
      startTime: entry.startTime,
      terminal: entry.finishedAt !== undefined,
      ...(entry.last ? { previous: entry.last.status } : {}),
      now: kubeTimestamp(),
    });
    const report: PodStatusReport = {
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name ?? '',
      uid,
      status,
      released,
    };
    entry.last = report;
    for (const listener of this.listeners) listener(report);
  }
}
