// Node lifecycle, as Kubernetes' node lifecycle controller: a node whose agent stops renewing its
// Lease (kube-node-lease/<node>) for the grace period is unreachable: its Ready condition becomes
// Unknown, it is tainted node.kubernetes.io/unreachable:NoExecute and its pods are marked not ready;
// after the eviction timeout its pods are deleted, so their owners replace them elsewhere (the agent,
// when it returns, sees them deleted and stops them). A renewed Lease lifts the taint.
// Health is time-based, so besides events a timer re-checks every node: level-triggered. Conditions
// the agent reports (pressure, not ready) become NoSchedule taints, as TaintNodesByCondition does.
import { RESOURCE_TYPES, kubeTimestamp, type KubeObject, type ResourceType } from '@flotilla/api';
import {
  createEventRecorder,
  createInformer,
  isNotFound,
  objectKey,
  type Informer,
  type RestClient,
} from '@flotilla/client';
import { KeyedWorkQueue } from '@flotilla/queue';
import { reconcileConditionTaints } from './condition-taints.util';
import { UNREACHABLE_TAINT, latest, nodeHealth } from './node-health.util';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeLifecycleOptions {
  client: RestClient;
  redisUrl: string;
  queueName?: string;
  /** How long a node may miss heartbeats before it is unreachable (Kubernetes: 40 s; ours 15 s). */
  gracePeriodMs?: number;
  /** How long an unreachable node keeps its pods before they are evicted. */
  evictionTimeoutMs?: number;
  checkIntervalMs?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface RunningNodeLifecycle {
  ready: Promise<void>;
  stop(): Promise<void>;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

type NodeObject = KubeObject & {
  spec?: { taints?: Array<{ key: string; value?: string; effect: string; timeAdded?: string }> };
  status?: { conditions?: Condition[] };
};
type PodObject = KubeObject & {
  spec?: { nodeName?: string };
  status?: { conditions?: Condition[]; phase?: string };
};
type LeaseObject = KubeObject & { spec?: { renewTime?: string; acquireTime?: string } };

function typeOf(kind: string): ResourceType {
  const type = RESOURCE_TYPES.find((candidate) => candidate.kind === kind);
  if (!type) throw new Error(`no resource type ${kind}`);
  return type;
}

export function startNodeLifecycleController(options: NodeLifecycleOptions): RunningNodeLifecycle {
  const { client } = options;
  const log = options.log ?? (() => undefined);
  const gracePeriodMs = options.gracePeriodMs ?? 15_000;
  const evictionTimeoutMs = options.evictionTimeoutMs ?? 30_000;
  const nodeType = typeOf('Node');
  const podType = typeOf('Pod');
  const nodes: Informer<NodeObject> = createInformer<NodeObject>({ client, resource: nodeType });
  const pods: Informer<PodObject> = createInformer<PodObject>({ client, resource: podType });
  const leases: Informer<LeaseObject> = createInformer<LeaseObject>({
    client,
    resource: typeOf('Lease'),
    namespace: NODE_LEASE_NAMESPACE,
  });
  const events = createEventRecorder({
    client,
    component: 'node-lifecycle-controller',
    onError: (error) => log('could not record an event', { error: String(error) }),
  });
  const queue = new KeyedWorkQueue({
    name: options.queueName ?? 'node-lifecycle',
    redisUrl: options.redisUrl,
    onError: (key, error) => log('node lifecycle failed; retrying', { node: key, error: String(error) }),
  });
  const enqueue = (name: string | undefined): void => {
    if (!name) return;
    queue.add(name).catch((error: unknown) => log('enqueue failed', { node: name, error: String(error) }));
  };
  nodes.addEventHandler({
    onAdd: (node) => enqueue(node.metadata?.name),
    onUpdate: (_old, node) => enqueue(node.metadata?.name),
  });
  leases.addEventHandler({
    onAdd: (lease) => enqueue(lease.metadata?.name),
    onUpdate: (_old, lease) => enqueue(lease.metadata?.name),
  });

  const podsOn = (nodeName: string): PodObject[] =>
    pods.list().filter((pod) => pod.spec?.nodeName === nodeName && !pod.metadata?.deletionTimestamp);

  async function setUnreachable(node: NodeObject, since: Date): Promise<void> {
    const name = node.metadata?.name ?? '';
    const conditions = node.status?.conditions ?? [];
    const ready = conditions.find((condition) => condition.type === 'Ready');
    if (ready?.status !== 'Unknown') {
      const message = `Node stopped posting status: no heartbeat since ${kubeTimestamp(new Date(since.getTime() - gracePeriodMs))}.`;
      await client.patch(
        nodeType,
        name,
        {
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'Unknown',
                reason: 'NodeStatusUnknown',
                message,
                lastTransitionTime: kubeTimestamp(new Date()),
              },
            ],
          },
        },
        { subresource: 'status', patchType: 'strategic', fieldManager: 'node-lifecycle-controller' },
      );
      await events.record(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      log('node is unreachable', { node: name });
    }
    const taints = node.spec?.taints ?? [];
    if (!taints.some((taint) => taint.key === UNREACHABLE_TAINT)) {
      await client.patch(
        nodeType,
        name,
        {
          spec: {
            taints: [
              ...taints,
              { key: UNREACHABLE_TAINT, effect: 'NoExecute', timeAdded: kubeTimestamp(new Date()) },
            ],
          },
        },
        { patchType: 'merge', fieldManager: 'node-lifecycle-controller' },
      );
    }
    for (const pod of podsOn(name)) {
      const podReady = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
      if (podReady?.status === 'False' && podReady.reason === 'NodeLost') continue;
      await client
        .patch(
          podType,
          pod.metadata?.name ?? '',
          {
            status: {
              conditions: [
                {
                  type: 'Ready',
                  status: 'False',
                  reason: 'NodeLost',
                  message: `Node ${name} is unreachable`,
                  lastTransitionTime: kubeTimestamp(new Date()),
                },
              ],
            },
          },
          {
            namespace: pod.metadata?.namespace,
            subresource: 'status',
            patchType: 'strategic',
            fieldManager: 'node-lifecycle-controller',
          },
        )
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
    }
  }

  async function evictPods(node: NodeObject): Promise<void> {
    const name = node.metadata?.name ?? '';
    for (const pod of podsOn(name)) {
      log('evicting a pod from an unreachable node', { node: name, pod: objectKey(pod) });
      await events.record(
        pod,
        'Normal',
        'TaintManagerEviction',
        `Marking for deletion Pod ${objectKey(pod)}`,
      );
      await client
        .delete(podType, pod.metadata?.name ?? '', { namespace: pod.metadata?.namespace })
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
    }
  }

  async function setReachable(node: NodeObject): Promise<void> {
    const taints = node.spec?.taints ?? [];
    if (!taints.some((taint) => taint.key === UNREACHABLE_TAINT)) return;
    await client.patch(
      nodeType,
      node.metadata?.name ?? '',
      { spec: { taints: taints.filter((taint) => taint.key !== UNREACHABLE_TAINT) } },
      { patchType: 'merge', fieldManager: 'node-lifecycle-controller' },
    );
    log('node is reachable again', { node: node.metadata?.name });
  }

  /**
   * NoSchedule taints from the node's conditions (TaintNodesByCondition). Read fresh and written with
   * its resourceVersion: the taint list is replaced whole, so a stale copy must not drop a taint
   * someone else added; a conflict fails the key and the queue retries it.
   */
  async function taintByConditions(name: string): Promise<void> {
    let node: NodeObject;
    try {
      node = await client.get<NodeObject>(nodeType, name);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    const taints = reconcileConditionTaints({
      taints: node.spec?.taints ?? [],
      conditions: node.status?.conditions ?? [],
      now: kubeTimestamp(new Date()),
    });
    if (!taints) return;
    await client.update(nodeType, { ...node, spec: { ...(node.spec ?? {}), taints } });
    log('node taints follow its conditions', { node: name, taints: taints.map((taint) => taint.key) });
  }

  async function reconcile(name: string): Promise<void> {
    const node = nodes.get(name);
    if (!node) return;
    const wanted = reconcileConditionTaints({
      taints: node.spec?.taints ?? [],
      conditions: node.status?.conditions ?? [],
      now: kubeTimestamp(new Date()),
    });
    if (wanted) await taintByConditions(name);
    const lease = leases.get(`${NODE_LEASE_NAMESPACE}/${name}`);
    const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready');
    const lastHeartbeat = latest(lease?.spec?.renewTime, lease?.spec?.acquireTime, ready?.lastHeartbeatTime);
    const createdAt = latest(node.metadata?.creationTimestamp);
    const health = nodeHealth({
      heartbeat: { ...(lastHeartbeat ? { lastHeartbeat } : {}), ...(createdAt ? { createdAt } : {}) },
      now: new Date(),
      gracePeriodMs,
      evictionTimeoutMs,
    });
    if (health.kind === 'healthy') return setReachable(node);
    await setUnreachable(node, health.since);
    if (health.kind === 'evict') await evictPods(node);
  }

  const timer = setInterval(
    () => nodes.list().forEach((node) => enqueue(node.metadata?.name)),
    options.checkIntervalMs ?? 2000,
  );
  timer.unref();
  for (const informer of [nodes, pods, leases]) informer.start();
  const ready = Promise.all([nodes.waitForSync(), pods.waitForSync(), leases.waitForSync()]).then(() => {
    queue.process(reconcile);
  });
  return {
    ready,
    async stop() {
      clearInterval(timer);
      for (const informer of [nodes, pods, leases]) informer.stop();
      await queue.close();
    },
  };
}
