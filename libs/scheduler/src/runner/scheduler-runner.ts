// The scheduler's control loop, in the Kubernetes controller style: informer handlers only enqueue
// "namespace/name" keys and keep the scheduler cache (each node's bound and assumed pods) current;
// scheduleOne(key) re-reads the pod from the informer cache, decides with the framework, assumes the
// pod on its node and binds through the API's binding subresource (a conditional write: a pod
// already bound elsewhere answers 409 and is left alone). The decision is synchronous, so several
// keys in flight at once never decide against the same free capacity; only the bindings overlap.
// Unschedulable pods get PodScheduled=False with Kubernetes' message and a FailedScheduling event,
// and are retried with back-off, and again whenever a node or a bound pod changes.
//
// Queues, as kube-scheduler splits them (activeQ, backoffQ, unschedulable pods): a new or changed
// pending pod goes to an in-memory active queue and is scheduled at once, with no Redis round trip
// (BullMQ cost ~6 per pod: add, fetch, lock, deduplication key, unlock, complete). A pod that fails
// (unschedulable, a failed bind) goes to the BullMQ queue, one job per key, which retries it with
// exponential back-off; the periodic resync goes there too, so a pod this process forgot is found.
import { RESOURCE_TYPES, kubeTimestamp, type KubeObject, type ResourceType } from '@flotilla/api';
import {
  createEventRecorder,
  createInformer,
  isConflict,
  isNotFound,
  objectKey,
  startLeaderElection,
  type Informer,
  type RestClient,
} from '@flotilla/client';
import { KeyedWorkQueue, retryDelayMs, type BackoffPolicy } from '@flotilla/queue';
import { SchedulerCache } from '../cache/scheduler-cache';
import { schedulePod } from '../framework/schedule-pod';
import { nodeView, podView, type NodeView } from '../framework/scheduling-views';
import { DEFAULT_PROFILE, type SchedulerProfile } from '../framework/plugin-registry';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/**
 * The scheduler's request connections to the apiserver (HTTP/1.1: one request in flight on each).
 * A cold 100-pod burst with no cap opened ~50 TLS connections at once, all of them handshaking on
 * the two cores the apiserver and the agents need; 16 keep 128 bindings flowing, since a binding
 * holds its connection for one round trip only.
 */
export const SCHEDULER_API_CONNECTIONS = 16;

export interface SchedulerOptions {
  client: RestClient;
  redisUrl: string;
  /** Pods whose spec.schedulerName is this are ours (Kubernetes' default name by default). */
  schedulerName?: string;
  /** The BullMQ queue name; replicas of one scheduler share it. */
  queueName?: string;
  profile?: SchedulerProfile;
  resyncIntervalMs?: number;
  /** Pods decided on and bound at once (decisions stay one at a time; bindings overlap). Default 128. */
  concurrency?: number;
  /** Retries (from the BullMQ queue) in flight at once, beside the active queue's. Default 4. */
  retryConcurrency?: number;
  /**
   * Request connections to open to the apiserver once the informers have synced (default
   * SCHEDULER_API_CONNECTIONS; 0: none), so the first burst of bindings finds them open instead of
   * opening one TLS connection per binding at once. Give the client the same cap
   * (maxRequestSockets) so a burst never opens more.
   */
  warmConnections?: number;
  /** A failed pod's back-off: first retry delay and cap (default 1 s doubling to 10 s, as kube-scheduler). */
  backoff?: BackoffPolicy;
  /**
   * Several replicas elect one leader through this Lease; only the leader schedules, so two
   * schedulers never place pods against the same free capacity at once. Omit for a single replica.
   */
  leaderElection?: {
    namespace: string;
    name: string;
    identity: string;
    leaseDurationSeconds?: number;
    renewDeadlineSeconds?: number;
    retryPeriodSeconds?: number;
  };
  /** Called when this replica loses leadership; kube-scheduler exits then, and so should the app. */
  onLostLeadership?: () => void;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface RunningScheduler {
  /** Resolves once the informers have synced. */
  ready: Promise<void>;
  /** True while this replica may schedule (always, without leader election). */
  isLeader(): boolean;
  stop(): Promise<void>;
}

function resourceType(kind: string): ResourceType {
  const type = RESOURCE_TYPES.find((candidate) => candidate.kind === kind && candidate.group === '');
  if (!type) throw new Error(`no resource type for ${kind}`);
  return type;
}

type PodObject = KubeObject & {
  spec?: { nodeName?: string; schedulerName?: string };
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
};

function isTerminal(pod: PodObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function startScheduler(options: SchedulerOptions): RunningScheduler {
  const { client } = options;
  const schedulerName = options.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  const profile = options.profile ?? DEFAULT_PROFILE;
  const log = options.log ?? (() => undefined);
  const podType = resourceType('Pod');
  const nodeType = resourceType('Node');
  const pods: Informer<PodObject> = createInformer<PodObject>({
    client,
    resource: podType,
    resyncPeriodMs: 0,
  });
  const nodes: Informer<KubeObject> = createInformer({ client, resource: nodeType, resyncPeriodMs: 0 });
  const cache = new SchedulerCache();
  // Pods that found no node last time: a change to a node or a bound pod may make them fit.
  const unschedulable = new Set<string>();
  // Each cycle starts where the previous one stopped filtering, so every node gets its turn.
  let nextStartIndex = 0;

  const isPending = (pod: PodObject): boolean =>
    !pod.spec?.nodeName &&
    !pod.metadata?.deletionTimestamp &&
    !isTerminal(pod) &&
    (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === schedulerName;

  const backoff = options.backoff ?? DEFAULT_SCHEDULER_BACKOFF;
  // Keys waiting to be scheduled, oldest first (a Set keeps insertion order), and keys being scheduled.
  const active = new Set<string>();
  const inFlight = new Set<string>();
  const concurrency = options.concurrency ?? 128;
  const queue = new KeyedWorkQueue({
    name: options.queueName ?? 'scheduler',
    redisUrl: options.redisUrl,
    concurrency: options.retryConcurrency ?? 4,
    backoff,
    resync: {
      intervalMs: options.resyncIntervalMs ?? 30_000,
      // Pods the active queue holds or schedules right now need no job, nor assumed ones: their
      // binding was answered and the watch has not shown it yet (a failed one is retried by itself).
      // In the 1,000-node bench such jobs (~6 Redis calls each, for nothing) were 8 % of its busy time.
      keys: () =>
        Promise.resolve(
          pods
            .list()
            .filter(isPending)
            .map(objectKey)
            .filter((key) => !active.has(key) && !inFlight.has(key) && !cache.isAssumed(key)),
        ),
    },
    onError: (key, error) =>
      log('scheduling failed; retrying with back-off', { pod: key, error: String(error) }),
  });
  /** The back-off queue: the first retry after the base delay, then BullMQ doubles it. */
  const retryLater = (key: string): void => {
    queue
      .add(key, { delayMs: retryDelayMs(1, backoff) })
      .catch((error: unknown) => log('could not queue a retry', { pod: key, error: String(error) }));
  };
  let processing = false;
  const drain = (): void => {
    while (processing && inFlight.size < concurrency) {
      const key = active.values().next().value;
      if (key === undefined) return;
      active.delete(key);
      inFlight.add(key);
      // scheduleOne decides synchronously before its first await, so decisions never interleave.
      scheduleOne(key)
        .catch((error: unknown) => {
          log('scheduling failed; retrying with back-off', { pod: key, error: String(error) });
          retryLater(key);
        })
        .finally(() => {
          inFlight.delete(key);
          drain();
        });
    }
  };
  const enqueue = (key: string): void => {
    active.add(key);
    drain();
  };
  const requeueUnschedulable = (): void => unschedulable.forEach(enqueue);

  const observePod = (pod: PodObject): void => {
    const key = objectKey(pod);
    if (isTerminal(pod)) cache.removePod(key);
    else cache.upsertPod(podView(pod));
    if (pod.spec?.nodeName || isTerminal(pod)) unschedulable.delete(key);
  };
  pods.addEventHandler({
    onAdd: (pod) => {
      observePod(pod);
      if (isPending(pod)) enqueue(objectKey(pod));
    },
    onUpdate: (previous, current) => {
      observePod(current);
      if (isPending(current)) enqueue(objectKey(current));
      // A pod that finished frees its requests: pending pods may fit now.
      else if (!isTerminal(previous) && isTerminal(current)) requeueUnschedulable();
    },
    onDelete: (pod) => {
      cache.removePod(objectKey(pod));
      unschedulable.delete(objectKey(pod));
      if (pod.spec?.nodeName) requeueUnschedulable();
    },
  });
  nodes.addEventHandler({
    onAdd: (node) => {
      cache.setNode(nodeView(node));
      requeueUnschedulable();
    },
    onUpdate: (previous, current) => {
      const view = nodeView(current);
      cache.setNode(view);
      // Heartbeats change a node every few seconds; only what scheduling reads is worth a retry.
      if (schedulingSignature(nodeView(previous)) !== schedulingSignature(view)) requeueUnschedulable();
    },
    onDelete: (node) => {
      cache.removeNode(node.metadata?.name ?? '');
      requeueUnschedulable();
    },
  });

  const events = createEventRecorder({
    client,
    component: schedulerName,
    onError: (error) => log('could not record an event', { error: String(error) }),
    // Events are best effort: under a burst they must not take the apiserver's writes from bindings.
    limit: { writes: 4, backlog: 1000 },
  });
  const recordEvent = (
    pod: PodObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> => events.record(pod, type, reason, message);

  async function markUnschedulable(pod: PodObject, message: string): Promise<void> {
    const existing = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
    if (existing?.status === 'False' && existing.message === message) return;
    const now = kubeTimestamp();
    await client.patch(
      podType,
      pod.metadata?.name ?? '',
      {
        status: {
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message,
              lastTransitionTime: now,
            },
          ],
        },
      },
      {
        namespace: pod.metadata?.namespace,
        subresource: 'status',
        patchType: 'strategic',
        fieldManager: schedulerName,
      },
    );
    await recordEvent(pod, 'Warning', 'FailedScheduling', message);
  }

  async function scheduleOne(key: string): Promise<void> {
    if (!isLeader()) return;
    const pod = pods.get(key);
    if (!pod || !isPending(pod) || cache.isAssumed(key)) return;
    const view = podView(pod);
    const nodeInfos = cache.nodeInfos();
    const result = schedulePod(view, nodeInfos, profile, { startIndex: nextStartIndex });
    if (result.kind === 'unschedulable') {
      unschedulable.add(key);
      await markUnschedulable(pod, result.message);
      log('pod is unschedulable', { pod: key, message: result.message });
      // Thrown so the queue retries with back-off; node and pod changes also re-enqueue it.
      throw new Error(result.message);
    }
    nextStartIndex = (nextStartIndex + result.evaluatedNodes) % Math.max(1, nodeInfos.length);
    unschedulable.delete(key);
    cache.assume(view, result.nodeName);
    try {
      await client.request({
        method: 'POST',
        path: `/api/v1/namespaces/${pod.metadata?.namespace ?? ''}/pods/${pod.metadata?.name ?? ''}/binding`,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace },
          target: { apiVersion: 'v1', kind: 'Node', name: result.nodeName },
        },
      });
    } catch (error) {
      cache.forget(key);
      // Bound meanwhile (by another replica) or deleted: nothing left to do for this pod.
      if (isConflict(error) || isNotFound(error)) return;
      throw error;
    }
    void recordEvent(pod, 'Normal', 'Scheduled', `Successfully assigned ${key} to ${result.nodeName}`);
  }

  const enqueuePending = (): void =>
    pods
      .list()
      .filter(isPending)
      .forEach((pod) => enqueue(objectKey(pod)));

  pods.start();
  nodes.start();
  const synced = Promise.all([pods.waitForSync(), nodes.waitForSync()]);
  const warmConnections = options.warmConnections ?? SCHEDULER_API_CONNECTIONS;
  let stopped = false;
  const startProcessing = (): void => {
    if (processing || stopped) return;
    processing = true;
    if (warmConnections > 0) {
      client
        .warmUp(warmConnections)
        .catch((error: unknown) => log('could not open the API connections ahead', { error: String(error) }));
    }
    queue.process(scheduleOne);
    enqueuePending();
    drain();
  };
  const election = options.leaderElection;
  const elector = election
    ? startLeaderElection({
        client,
        namespace: election.namespace,
        name: election.name,
        identity: election.identity,
        ...(election.leaseDurationSeconds ? { leaseDurationSeconds: election.leaseDurationSeconds } : {}),
        ...(election.renewDeadlineSeconds ? { renewDeadlineSeconds: election.renewDeadlineSeconds } : {}),
        ...(election.retryPeriodSeconds ? { retryPeriodSeconds: election.retryPeriodSeconds } : {}),
        onStartedLeading: () => {
          log('became the leader', { identity: election.identity });
          synced.then(startProcessing, () => undefined);
        },
        onStoppedLeading: () => {
          log('lost leadership', { identity: election.identity });
          options.onLostLeadership?.();
        },
        onError: (error) => log('leader election', { error: String(error) }),
      })
    : undefined;
  function isLeader(): boolean {
    return elector ? elector.isLeader() : true;
  }
  const ready = synced.then(() => {
    if (!elector) startProcessing();
  });
  return {
    ready,
    isLeader,
    async stop() {
      stopped = true;
      processing = false;
      active.clear();
      await elector?.stop();
      pods.stop();
      nodes.stop();
      await queue.close();
    },
  };
}

/** kube-scheduler's pod back-off (podInitialBackoffSeconds 1, podMaxBackoffSeconds 10). */
export const DEFAULT_SCHEDULER_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 10_000 };

/** What of a node the filters and scores read; a change here may let an unschedulable pod fit. */
function schedulingSignature(node: NodeView): string {
  const { allocatable } = node;
  return JSON.stringify([
    node.ready,
    node.unschedulable,
    String(allocatable.milliCpu),
    String(allocatable.memoryBytes),
    String(allocatable.pods),
    node.labels,
    node.taints,
  ]);
}
