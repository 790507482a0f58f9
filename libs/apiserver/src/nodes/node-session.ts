// One agent's Connect stream. Down: the node's full desired pod set (pods bound to it, from the watch
// cache) on connect and after any watch reset, then each change; the peer set whenever it changes.
// Up: heartbeats become the Node's conditions and a renewed Lease in kube-node-lease; pod statuses
// become pods/status writes (only for pods bound to this node, only for the same pod uid); a
// released pod that is being deleted is removed; metrics are kept as the node's latest sample.
import { randomBytes } from 'node:crypto';
import { kubeTimestamp, type Node, type Pod, type WatchEvent } from '@flotilla/api';
import { status as GrpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import type {
  AgentMessage,
  DesiredPod,
  Heartbeat,
  MetricsReport,
  Peer,
  PodStatusUpdate,
  ServerMessage,
} from '@flotilla/proto';
import { PodChange_Type } from '@flotilla/proto';
import type { Logger } from 'pino';
import { LatestPerKeyQueue } from './latest-per-key.queue';
import { statusRetryDelayMs } from './status-retry.util';
import { podIntent } from './pod-intent.util';
import type { NodeDirectory } from './node-directory';
import type { ServiceFeed } from './service-feed';
import { HeartbeatError, mergeHeartbeat } from './node-conditions.util';
import type { UsageSink } from '../metrics/usage-samples.store';
import { apiErrorCode, type NodeObjects, type ObjectWatch } from './node-objects.adapter';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const CONFLICT_RETRIES = 5;
const REWATCH_DELAY_MS = 500;

export interface NodeSessionOptions {
  nodeName: string;
  call: ServerDuplexStream<AgentMessage, ServerMessage>;
  objects: NodeObjects;
  directory: NodeDirectory;
  /** Services and Endpoints for the agent's service table; none are sent without it. */
  services?: ServiceFeed;
  metrics: UsageSink;
  logger: Logger;
  /** How often the Node is rewritten when nothing changed (its Lease is renewed on every heartbeat). */
  statusReportIntervalMs: number;
  leaseDurationSeconds: number;
  /**
   * Resolves once the node's previous session has closed and finished its writes: this session
   * writes nothing before, or an older report still in flight there (ContainerCreating) could
   * land over this one's newer report (Running), which the agent does not send again.
   */
  previousWrites?: Promise<void>;
  onClosed: () => void;
}

interface LeaseObject {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: Node['metadata'];
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string };
}

/** Lease times are MicroTime in Kubernetes: RFC 3339 with six fractional digits. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function revisionOf(object: { metadata: { resourceVersion?: string } }): number {
  return Number(object.metadata.resourceVersion ?? 0);
}

/** The node went away under a live stream: the agent must register again. */
class NodeGoneError extends Error {}

/** A heartbeat that changes nothing the Node must show now: no write. */
class NothingToWrite extends Error {}

/** A pod report that must not be written over the pod found (see podStatus). */
class PodReportMismatch extends Error {
  constructor(
    readonly pod: Pod,
    readonly reason: 'another pod' | 'another node' | 'released',
  ) {
    super(`the pod's report does not apply: ${reason}`);
  }
}

export class NodeSession {
  private readonly nodeName: string;
  private readonly call: ServerDuplexStream<AgentMessage, ServerMessage>;
  private readonly logger: Logger;
  private podWatch: ObjectWatch | undefined;
  private unsubscribePeers: (() => void) | undefined;
  private unsubscribeServices: (() => void) | undefined;
  private rewatchTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private markClosed: () => void = () => undefined;
  private readonly closedOnce = new Promise<void>((resolve) => (this.markClosed = resolve));
  private readonly writes: LatestPerKeyQueue<AgentMessage['payload']>;
  /**
   * Each pod's last status write, by namespace/name, until the pod watch delivers it: an agent
   * reports ContainerCreating and then Running within milliseconds, and the second write would
   * otherwise start from a cached copy without the first and conflict.
   */
  private readonly writtenPods = new Map<string, Pod>();

  constructor(private readonly options: NodeSessionOptions) {
    this.nodeName = options.nodeName;
    this.call = options.call;
    this.logger = options.logger.child({ node: options.nodeName });
    this.writes = new LatestPerKeyQueue(
      (_key, payload) => this.handle(payload),
      (key, error) => {
        if (error instanceof NodeGoneError) {
          this.close(GrpcStatus.FAILED_PRECONDITION, error.message);
          return;
        }
        this.logger.warn(
          { err: error, key },
          'a node report could not be written; it is retried or superseded by the next report',
        );
      },
      // A heartbeat is followed by the next one; a pod's status is reported once per change, so a
      // write lost to a busy etcd is retried (1 s doubling to 30 s) while the stream lives, unless a
      // newer report came or the API refused it for good.
      (key, error, attempt) => {
        if (!key.startsWith('pod/') || error instanceof NodeGoneError) return undefined;
        return statusRetryDelayMs({ code: apiErrorCode(error), attempt });
      },
    );
  }

  async start(): Promise<void> {
    this.call.on('data', (message: AgentMessage) => this.receive(message));
    this.call.on('end', () => this.close());
    this.call.on('error', () => this.close());
    this.call.on('cancelled', () => this.close());
    this.call.on('close', () => this.close());
    const node = await this.options.objects.get<Node>({
      kind: 'Node',
      name: this.nodeName,
    });
    if (!node) {
      this.close(
        GrpcStatus.FAILED_PRECONDITION,
        `node ${this.nodeName} is not registered: call Register, then Connect`,
      );
      return;
    }
    await this.watchPods();
    if (this.closed) return;
    this.send({ payload: { $case: 'peers', value: { peers: this.options.directory.peers() } } });
    this.unsubscribePeers = this.options.directory.subscribe((peers: Peer[]) =>
      this.send({ payload: { $case: 'peers', value: { peers } } }),
    );
    const services = this.options.services;
    if (services) {
      this.send({ payload: { $case: 'services', value: services.snapshot() } });
      this.unsubscribeServices = services.subscribe((payload) => this.send({ payload }));
    }
    this.logger.info('node connected');
  }

  private send(message: ServerMessage): void {
    if (!this.closed) this.call.write(message);
  }

  private async watchPods(): Promise<void> {
    let initial: Map<string, DesiredPod> | undefined = new Map();
    // What the agent was last sent per pod uid: status-only events are not sent again (podIntent).
    const sent = new Map<string, string>();
    const desiredOf = (pod: Pod): DesiredPod => ({
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      uid: pod.metadata.uid ?? '',
      podJson: Buffer.from(JSON.stringify(pod)),
    });
    const watch = await this.options.objects.watch({
      kind: 'Pod',
      fieldSelector: `spec.nodeName=${this.nodeName}`,
      onEvent: (event: WatchEvent) => {
        if (event.type === 'ERROR' || event.type === 'BOOKMARK') return;
        const pod = event.object as unknown as Pod;
        const uid = pod.metadata.uid ?? '';
        const podKey = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
        const written = this.writtenPods.get(podKey);
        if (written && (event.type === 'DELETED' || revisionOf(written) <= revisionOf(pod))) {
          this.writtenPods.delete(podKey);
        }
        if (event.type === 'DELETED') sent.delete(uid);
        else {
          const intent = podIntent(pod);
          if (sent.get(uid) === intent) return;
          sent.set(uid, intent);
        }
        const desired = desiredOf(pod);
        if (initial) {
          if (event.type === 'DELETED') initial.delete(desired.uid);
          else initial.set(desired.uid, desired);
          return;
        }
        const type = event.type === 'DELETED' ? PodChange_Type.DELETE : PodChange_Type.UPSERT;
        this.send({ payload: { $case: 'change', value: { type, pod: desired } } });
      },
      onEnd: () => {
        if (this.closed) return;
        this.rewatchTimer = setTimeout(() => {
          this.watchPods().catch((error: unknown) => {
            this.logger.warn({ err: error }, "could not watch the node's pods again; closing the stream");
            this.close(GrpcStatus.UNAVAILABLE, 'the apiserver lost its pod watch: reconnect');
          });
        }, REWATCH_DELAY_MS);
      },
    });
    if (this.closed) {
      watch.close();
      return;
    }
    this.podWatch = watch;
    const pods = [...initial.values()];
    initial = undefined;
    this.send({ payload: { $case: 'fullSet', value: { pods } } });
  }

  private receive(message: AgentMessage): void {
    const payload = message.payload;
    if (!payload) return;
    switch (payload.$case) {
      case 'heartbeat':
        this.writes.push('heartbeat', payload);
        return;
      case 'podStatus':
        this.writes.push(`pod/${payload.value.namespace}/${payload.value.name}`, payload);
        return;
      case 'metrics':
        this.recordMetrics(payload.value);
        return;
    }
  }

  private async handle(payload: AgentMessage['payload']): Promise<void> {
    if (this.options.previousWrites) await this.options.previousWrites;
    if (payload?.$case === 'heartbeat') return this.heartbeat(payload.value);
    if (payload?.$case === 'podStatus') return this.podStatus(payload.value);
  }

  private recordMetrics(report: MetricsReport): void {
    // An unreadable time would make every rate from this sample unknowable: take the server's.
    const time = Number.isNaN(Date.parse(report.time)) ? new Date().toISOString() : report.time;
    this.options.metrics
      .record({
        node: {
          nodeName: this.nodeName,
          time,
          cpuNanos: report.nodeCpuUsageNanoseconds,
          memoryWorkingSetBytes: report.nodeMemoryWorkingSetBytes,
        },
        pods: report.pods.map((pod) => ({
          namespace: pod.namespace,
          name: pod.name,
          uid: pod.uid,
          containers: pod.containers.map((container) => ({
            name: container.name,
            cpuNanos: container.cpuUsageNanoseconds,
            memoryWorkingSetBytes: container.memoryWorkingSetBytes,
          })),
        })),
      })
      .catch((error: unknown) => {
        // The next report supersedes this one; say so once per failure, not per pod.
        this.logger.warn({ err: error }, 'could not store the usage samples of this report');
      });
  }

  private async heartbeat(heartbeat: Heartbeat): Promise<void> {
    // The server's clock, not the agent's: the node lifecycle controller compares these with its own.
    const now = new Date();
    await this.renewLease(now);
    try {
      // From the watch cache's copy (no etcd read per heartbeat: 1,000 nodes send 100-200 a second);
      // a stale copy at worst costs a 409 and a retry from etcd, or a write deferred to the next
      // heartbeat, which sees the cache caught up.
      await this.options.objects.modify<Node>(
        { kind: 'Node', name: this.nodeName },
        (node) => {
          const merged = mergeHeartbeat({
            existing: node.status?.conditions ?? [],
            reported: heartbeat.conditions,
            now,
            reportIntervalMs: this.options.statusReportIntervalMs,
          });
          if (!merged.write) throw new NothingToWrite();
          return { ...node, status: { ...(node.status ?? {}), conditions: merged.conditions } };
        },
        { subresource: 'status' },
      );
    } catch (error) {
      if (error instanceof NothingToWrite) return;
      if (error instanceof HeartbeatError) {
        this.logger.warn({ reason: error.message }, 'ignored a malformed heartbeat');
        return;
      }
      if (apiErrorCode(error) === 404)
        throw new NodeGoneError(`node ${this.nodeName} was deleted: register again`);
      throw error;
    }
  }

  private async renewLease(now: Date): Promise<void> {
    const ref = { kind: 'Lease' as const, namespace: NODE_LEASE_NAMESPACE, name: this.nodeName };
    for (let attempt = 1; ; attempt++) {
      try {
        // Only this session writes its node's Lease, so the cached copy is current but for a lag;
        // a stale one answers 409 and the retry reads etcd.
        await this.options.objects.modify<LeaseObject>(ref, (lease) => ({
          ...lease,
          spec: {
            ...(lease.spec ?? {}),
            holderIdentity: this.nodeName,
            leaseDurationSeconds: this.options.leaseDurationSeconds,
            renewTime: microTime(now),
          },
        }));
        return;
      } catch (error) {
        if (apiErrorCode(error) !== 404) throw error;
      }
      const node = await this.options.objects.get<Node>({
        kind: 'Node',
        name: this.nodeName,
      });
      if (!node) throw new NodeGoneError(`node ${this.nodeName} was deleted: register again`);
      try {
        // Owned by the Node, as kubelet's lease is, so deleting the Node collects the Lease.
        await this.options.objects.create(ref, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: this.nodeName,
            namespace: NODE_LEASE_NAMESPACE,
            ownerReferences: [
              { apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: node.metadata.uid ?? '' },
            ],
          },
          spec: {
            holderIdentity: this.nodeName,
            leaseDurationSeconds: this.options.leaseDurationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
          },
        });
        return;
      } catch (error) {
        // Created meanwhile (AlreadyExists): the next round renews that one.
        if (apiErrorCode(error) !== 409 || attempt >= CONFLICT_RETRIES) throw error;
      }
    }
  }

  private async podStatus(update: PodStatusUpdate): Promise<void> {
    let status: unknown;
    try {
      status = JSON.parse(Buffer.from(update.statusJson).toString('utf8'));
    } catch {
      this.logger.warn(
        { pod: `${update.namespace}/${update.name}` },
        'ignored a pod status that is not JSON',
      );
      return;
    }
    if (typeof status !== 'object' || status === null || Array.isArray(status)) {
      this.logger.warn(
        { pod: `${update.namespace}/${update.name}` },
        'ignored a pod status that is not an object',
      );
      return;
    }
    const reported = status as Pod['status'];
    const ref = { kind: 'Pod' as const, namespace: update.namespace, name: update.name };
    // The first try writes over the watch cache's copy: an etcd read per report doubled the cost of
    // every status write. A stale copy answers 409 and is retried from etcd; a cached copy that
    // looks wrong (another uid or node) is checked against etcd before the report is dropped.
    const podKey = `${update.namespace}/${update.name}`;
    for (const read of ['cache-first', 'etcd'] as const) {
      const written = read === 'cache-first' ? this.writtenPods.get(podKey) : undefined;
      try {
        const stored = await this.options.objects.modify<Pod>(
          ref,
          (pod) => {
            if (pod.metadata.uid !== update.uid) throw new PodReportMismatch(pod, 'another pod');
            if (pod.spec?.nodeName !== this.nodeName) throw new PodReportMismatch(pod, 'another node');
            if (update.released && pod.metadata.deletionTimestamp) {
              throw new PodReportMismatch(pod, 'released');
            }
            return { ...pod, status: reported };
          },
          { subresource: 'status', read, ...(written ? { written } : {}) },
        );
        this.writtenPods.set(podKey, stored);
        return;
      } catch (error) {
        // Gone: this report is about an object that no longer exists.
        if (apiErrorCode(error) === 404) return;
        if (!(error instanceof PodReportMismatch)) throw error;
        if (error.reason === 'released') {
          await this.options.objects
            .delete(ref, { uid: update.uid, gracePeriodSeconds: 0 })
            .catch((deleteError: unknown) => {
              if (apiErrorCode(deleteError) !== 404) throw deleteError;
            });
          return;
        }
        if (read === 'etcd') {
          // A new pod under the same name is not this report's; one bound elsewhere is refused.
          if (error.reason === 'another node') await this.refuse(error.pod);
          return;
        }
      }
    }
  }

  /**
   * A node reported on a pod bound elsewhere: a broken or compromised agent. Nothing is written to
   * the pod; a Warning event on it tells whoever looks (kubectl describe) which node tried.
   */
  private async refuse(pod: Pod): Promise<void> {
    const message = `node ${this.nodeName} reported the status of this pod, which is bound to ${pod.spec?.nodeName || 'no node'}; refused`;
    this.logger.warn({ pod: `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}` }, message);
    const now = kubeTimestamp();
    await this.options.objects.create(
      { kind: 'Event', namespace: pod.metadata.namespace ?? '', name: '' },
      {
        apiVersion: 'v1',
        kind: 'Event',
        // Named as Kubernetes names events: the object's name, a dot, a unique hex suffix.
        metadata: {
          name: `${pod.metadata.name ?? 'pod'}.${randomBytes(8).toString('hex')}`,
          namespace: pod.metadata.namespace ?? '',
        },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          namespace: pod.metadata.namespace ?? '',
          name: pod.metadata.name ?? '',
          uid: pod.metadata.uid ?? '',
        },
        reason: 'NodeStatusRefused',
        message,
        type: 'Warning',
        source: { component: 'apiserver' },
        reportingComponent: 'apiserver',
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    );
  }

  /** Ends the stream (with a status for the agent when given) and stops watching. */
  close(code?: GrpcStatus, details?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.markClosed();
    if (this.rewatchTimer) clearTimeout(this.rewatchTimer);
    // A reconnecting agent sends every current status again.
    this.writes.stop();
    this.writtenPods.clear();
    this.podWatch?.close();
    this.unsubscribePeers?.();
    this.unsubscribeServices?.();
    if (code !== undefined) {
      this.logger.info({ code: GrpcStatus[code], details }, 'closing the node stream');
      this.call.emit('error', { code, details: details ?? '' });
    } else if (!this.call.writableEnded) {
      this.call.end();
    }
    this.options.onClosed();
    this.logger.info('node disconnected');
  }

  /** Waits for writes in flight (for an orderly shutdown). */
  idle(): Promise<void> {
    return this.writes.idle();
  }

  /** Resolves once the session has closed and every write it took has finished (or failed). */
  async closedAndIdle(): Promise<void> {
    await this.closedOnce;
    await this.writes.idle();
  }
}
