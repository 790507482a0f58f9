// The scheduler's control loop, in the Kubernetes controller style: informer handlers only enqueue
// "namespace/name" keys; scheduleOne(key) re-reads the pod and nodes from the informer caches,
// decides with the framework, and binds through the API's binding subresource (a conditional write:
// a pod already bound elsewhere answers 409 and is left alone). Unschedulable pods get
// PodScheduled=False with Kubernetes' message and a FailedScheduling event, and are retried with
// back-off, and again whenever nodes or bound pods change.
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
import { KeyedWorkQueue } from '@flotilla/queue';
import { schedulePod } from '../framework/schedule-pod';
import { buildNodeInfos, nodeView, podView, type PodView } from '../framework/scheduling-views';
import { DEFAULT_PROFILE, type SchedulerProfile } from '../framework/plugin-registry';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export interface SchedulerOptions {
  client: RestClient;
  redisUrl: string;
  /** Pods whose spec.schedulerName is this are ours (Kubernetes' default name by default). */
  schedulerName?: string;
  /** The BullMQ queue name; replicas of one scheduler share it. */
  queueName?: string;
  profile?: SchedulerProfile;
  resyncIntervalMs?: number;
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
  // Pods this scheduler has bound whose binding the informer has not shown yet: counted on their
  // node so that back-to-back decisions never over-commit it.
  const assumed = new Map<string, string>();

  const isPending = (pod: PodObject): boolean =>
    !pod.spec?.nodeName &&
    !pod.metadata?.deletionTimestamp &&
    !isTerminal(pod) &&
    (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === schedulerName;

  const queue = new KeyedWorkQueue({
    name: options.queueName ?? 'scheduler',
    redisUrl: options.redisUrl,
    resync: {
      intervalMs: options.resyncIntervalMs ?? 30_000,
      keys: () => Promise.resolve(pods.list().filter(isPending).map(objectKey)),
    },
    onError: (key, error) =>
      log('scheduling failed; retrying with back-off', { pod: key, error: String(error) }),
  });
  const enqueue = (key: string): void => {
    queue.add(key).catch((error: unknown) => log('enqueue failed', { pod: key, error: String(error) }));
  };
  const enqueuePending = (): void =>
    pods
      .list()
      .filter(isPending)
      .forEach((pod) => enqueue(objectKey(pod)));

  pods.addEventHandler({
    onAdd: (pod) => (isPending(pod) ? enqueue(objectKey(pod)) : undefined),
    onUpdate: (previous, current) => {
      if (current.spec?.nodeName) assumed.delete(objectKey(current));
      if (isPending(current)) enqueue(objectKey(current));
      // A pod that finished frees its requests: pending pods may fit now.
      else if (!isTerminal(previous) && isTerminal(current)) enqueuePending();
    },
    onDelete: (pod) => {
      assumed.delete(objectKey(pod));
      if (pod.spec?.nodeName) enqueuePending();
    },
  });
  nodes.addEventHandler({ onAdd: enqueuePending, onUpdate: enqueuePending, onDelete: enqueuePending });

  const boundPods = (): PodView[] =>
    pods
      .list()
      .filter((pod) => !isTerminal(pod))
      .map((pod) => {
        const view = podView(pod);
        const node = pod.spec?.nodeName ?? assumed.get(view.key);
        return node ? { ...view, nodeName: node } : view;
      })
      .filter((view) => view.nodeName !== undefined);

  const events = createEventRecorder({
    client,
    component: schedulerName,
    onError: (error) => log('could not record an event', { error: String(error) }),
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
    if (!pod || !isPending(pod) || assumed.has(key)) return;
    const infos = buildNodeInfos(nodes.list().map(nodeView), boundPods());
    const result = schedulePod(podView(pod), infos, profile);
    if (result.kind === 'unschedulable') {
      await markUnschedulable(pod, result.message);
      log('pod is unschedulable', { pod: key, message: result.message });
      // Thrown so the queue retries with back-off; node and pod changes also re-enqueue it.
      throw new Error(result.message);
    }
    assumed.set(key, result.nodeName);
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
      assumed.delete(key);
      // Bound meanwhile (by another replica) or deleted: nothing left to do for this pod.
      if (isConflict(error) || isNotFound(error)) return;
      throw error;
    }
    log('pod bound', { pod: key, node: result.nodeName });
    await recordEvent(pod, 'Normal', 'Scheduled', `Successfully assigned ${key} to ${result.nodeName}`);
  }

  pods.start();
  nodes.start();
  const synced = Promise.all([pods.waitForSync(), nodes.waitForSync()]);
  let processing = false;
  const startProcessing = (): void => {
    if (processing) return;
    processing = true;
    queue.process(scheduleOne);
    enqueuePending();
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
      await elector?.stop();
      pods.stop();
      nodes.stop();
      await queue.close();
    },
  };
}
