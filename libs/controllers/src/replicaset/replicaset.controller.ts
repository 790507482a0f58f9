// The ReplicaSet controller, as Kubernetes': keeps spec.replicas active pods matching the selector.
// Handlers only enqueue "namespace/name" keys; reconcile(key) reads the informer caches (never
// changing the frozen objects there) and is level-triggered, so running it twice does nothing twice:
//  - pods are claimed as ControllerRefManager does (adopt matching orphans, release mismatches);
//  - missing pods are created from the template in slow-start batches with a controller reference,
//    surplus ones deleted least valuable first (pod-ranking.util.ts);
//  - expectations hold the next decision until the cache has seen this one's creations and deletions;
//  - status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas, observedGeneration) is
//    written back, and a pod that will become available after minReadySeconds brings its key back then.
import {
  SelectorError,
  kubeTimestamp,
  labelSelectorMatcher,
  type LabelMatcher,
  type ReplicaSetStatus,
  type WorkloadCondition,
} from '@flotilla/api';
import {
  createEventRecorder,
  createInformer,
  isConflict,
  isNotFound,
  objectKey,
  type Informer,
  type RestClient,
} from '@flotilla/client';
import { claimObjects } from './claim-objects';
import { controllerRef, controllerReferenceTo } from './controller-ref.util';
import { ControllerExpectations } from './expectations';
import { thaw, typeOf, type PodObject, type ReplicaSetObject } from './kube-objects';
import { podsToDelete } from './pod-ranking.util';
import { availableAt, isPodActive, isPodReady, replicaCounts } from './pod-state.util';
import { RequeueTimers } from './requeue-timers';
import { slowStart } from './slow-start.util';
import { createControllerQueue } from '../shared/controller-queue';

export interface ReplicaSetControllerOptions {
  readonly client: RestClient;
  readonly redisUrl: string;
  readonly queueName?: string;
  /** ReplicaSets this process reconciles at once. */
  readonly concurrency?: number;
  readonly resyncIntervalMs?: number;
  /** Most pods created or deleted in one reconcile (Kubernetes: 500). */
  readonly burstReplicas?: number;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface RunningReplicaSetController {
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

const COMPONENT = 'replicaset-controller';

export function startReplicaSetController(options: ReplicaSetControllerOptions): RunningReplicaSetController {
  const { client } = options;
  const log = options.log ?? (() => undefined);
  const burst = options.burstReplicas ?? 500;
  const rsType = typeOf('ReplicaSet');
  const podType = typeOf('Pod');
  const replicaSets: Informer<ReplicaSetObject> = createInformer({ client, resource: rsType });
  const pods: Informer<PodObject> = createInformer({ client, resource: podType });
  const expectations = new ControllerExpectations();
  const events = createEventRecorder({
    client,
    component: COMPONENT,
    onError: (error) => log('could not record an event', { error: String(error) }),
  });
  const { queue, enqueue } = createControllerQueue({
    name: options.queueName ?? COMPONENT,
    redisUrl: options.redisUrl,
    concurrency: options.concurrency ?? 4,
    resyncIntervalMs: options.resyncIntervalMs ?? 30_000,
    keys: () => replicaSets.list().map((rs) => objectKey(rs)),
    noun: 'replicaset',
    log,
  });
  const timers = new RequeueTimers(enqueue);

  /** The ReplicaSet a controller reference names, if our cache has that very one. */
  const ownerOf = (pod: PodObject): ReplicaSetObject | undefined => {
    const ref = controllerRef(pod);
    if (ref?.kind !== 'ReplicaSet') return undefined;
    const rs = replicaSets.get(`${pod.metadata.namespace ?? ''}/${ref.name}`);
    return rs?.metadata.uid === ref.uid ? rs : undefined;
  };
  const selectorOf = (rs: ReplicaSetObject): LabelMatcher | undefined => {
    try {
      return labelSelectorMatcher(rs.spec.selector);
    } catch (error) {
      if (error instanceof SelectorError) return undefined;
      throw error;
    }
  };
  /** ReplicaSets in the pod's namespace whose selector matches it: who might adopt an orphan. */
  const enqueueMatching = (pod: PodObject): void => {
    for (const rs of replicaSets.list()) {
      if (rs.metadata.namespace !== pod.metadata.namespace) continue;
      const selector = selectorOf(rs);
      if (selector && !selector.empty && selector.matches(pod.metadata.labels)) enqueue(objectKey(rs));
    }
  };
  const podDeleted = (pod: PodObject): void => {
    const rs = ownerOf(pod);
    if (!rs) return;
    const key = objectKey(rs);
    expectations.deletionObserved(key, objectKey(pod));
    enqueue(key);
  };

  replicaSets.addEventHandler({
    onAdd: (rs) => enqueue(objectKey(rs)),
    onUpdate: (_previous, rs) => enqueue(objectKey(rs)),
    onDelete: (rs) => {
      expectations.forget(objectKey(rs));
      enqueue(objectKey(rs));
    },
  });
  pods.addEventHandler({
    onAdd: (pod) => {
      if (pod.metadata.deletionTimestamp !== undefined) return podDeleted(pod);
      const rs = ownerOf(pod);
      if (rs) {
        expectations.creationObserved(objectKey(rs));
        enqueue(objectKey(rs));
      } else if (!controllerRef(pod)) enqueueMatching(pod);
    },
    onUpdate: (previous, pod) => {
      if (pod.metadata.deletionTimestamp !== undefined && previous.metadata.deletionTimestamp === undefined) {
        return podDeleted(pod);
      }
      const before = ownerOf(previous);
      const after = ownerOf(pod);
      if (before && before.metadata.uid !== after?.metadata.uid) enqueue(objectKey(before));
      if (after) {
        enqueue(objectKey(after));
        const minReady = after.spec.minReadySeconds ?? 0;
        if (minReady > 0 && !isPodReady(previous) && isPodReady(pod)) {
          timers.after(objectKey(after), minReady * 1000 + 1000);
        }
      } else if (!controllerRef(pod)) enqueueMatching(pod);
    },
    onDelete: podDeleted,
  });

  async function createPods(rs: ReplicaSetObject, key: string, count: number): Promise<unknown> {
    expectations.expectCreations(key, count);
    const template = rs.spec.template;
    const owner = controllerReferenceTo({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: rs.metadata.name ?? '',
      uid: rs.metadata.uid ?? '',
    });
    const result = await slowStart(count, async () => {
      const pod: PodObject = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          generateName: `${rs.metadata.name ?? ''}-`,
          namespace: rs.metadata.namespace,
          labels: { ...(template?.metadata?.labels ?? {}) },
          ...(template?.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
          ...(template?.metadata?.finalizers ? { finalizers: [...template.metadata.finalizers] } : {}),
          ownerReferences: [owner],
        },
        spec: thaw(template?.spec ?? { containers: [] }),
      };
      try {
        const created = await client.create(podType, pod, {
          namespace: rs.metadata.namespace,
          fieldManager: COMPONENT,
        });
        void events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name ?? ''}`);
      } catch (error) {
        void events.record(rs, 'Warning', 'FailedCreate', `Error creating: ${errorText(error)}`);
        throw error;
      }
    });
    // Creations that failed or never started will never be observed.
    for (let skipped = count - result.successes; skipped > 0; skipped -= 1)
      expectations.creationObserved(key);
    return result.error;
  }

  async function deletePods(
    rs: ReplicaSetObject,
    key: string,
    victims: readonly PodObject[],
  ): Promise<unknown> {
    expectations.expectDeletions(
      key,
      victims.map((pod) => objectKey(pod)),
    );
    const results = await Promise.allSettled(
      victims.map(async (pod) => {
        try {
          await client.delete(podType, pod.metadata.name ?? '', { namespace: pod.metadata.namespace });
          void events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name ?? ''}`);
        } catch (error) {
          expectations.deletionObserved(key, objectKey(pod));
          if (isNotFound(error)) return;
          void events.record(rs, 'Warning', 'FailedDelete', `Error deleting: ${errorText(error)}`);
          throw error;
        }
      }),
    );
    return results.find((result): result is PromiseRejectedResult => result.status === 'rejected')?.reason;
  }

  /** Pods of the ReplicaSet's siblings (same controller), for spreading what remains across nodes. */
  function relatedPods(rs: ReplicaSetObject, own: readonly PodObject[]): PodObject[] {
    const parent = controllerRef(rs);
    if (!parent) return [...own];
    const siblings = new Set(
      replicaSets
        .list()
        .filter(
          (other) =>
            other.metadata.namespace === rs.metadata.namespace && controllerRef(other)?.uid === parent.uid,
        )
        .map((other) => other.metadata.uid),
    );
    return pods.list().filter((pod) => {
      const ref = controllerRef(pod);
      return isPodActive(pod) && ref !== undefined && siblings.has(ref.uid);
    });
  }

  async function writeStatus(rs: ReplicaSetObject, status: ReplicaSetStatus): Promise<void> {
    if (sameStatus(rs.status, status)) return;
    try {
      await client.updateStatus(
        rsType,
        { ...thaw(rs), status },
        {
          namespace: rs.metadata.namespace,
          fieldManager: COMPONENT,
        },
      );
    } catch (error) {
      if (isNotFound(error)) return;
      if (!isConflict(error)) throw error;
      // Someone (a scale) wrote the ReplicaSet since our cache saw it: one more try on the fresh copy.
      const fresh = await client.get<ReplicaSetObject>(rsType, rs.metadata.name ?? '', {
        namespace: rs.metadata.namespace,
      });
      if (fresh.metadata.uid !== rs.metadata.uid) return;
      await client.updateStatus(
        rsType,
        { ...fresh, status: { ...status } },
        {
          namespace: rs.metadata.namespace,
          fieldManager: COMPONENT,
        },
      );
    }
  }

  async function reconcile(key: string): Promise<void> {
    const rs = replicaSets.get(key);
    if (!rs) {
      expectations.forget(key);
      return;
    }
    const needsSync = expectations.satisfied(key);
    const selector = selectorOf(rs);
    if (!selector) {
      log('replicaset has an invalid selector; not syncing it', { replicaset: key });
      return;
    }
    const namespace = rs.metadata.namespace;
    const candidates = pods.list().filter((pod) => pod.metadata.namespace === namespace && isPodActive(pod));
    const owned = await claimObjects({
      client,
      type: podType,
      ownerType: rsType,
      owner: rs,
      candidates,
      // Kubernetes: an empty selector selects nothing for a ReplicaSet's pods.
      matches: (pod) => !selector.empty && selector.matches(pod.metadata.labels),
      fieldManager: COMPONENT,
    });

    let manageError: unknown;
    if (needsSync && rs.metadata.deletionTimestamp === undefined) {
      const desired = rs.spec.replicas ?? 1;
      const diff = owned.length - desired;
      if (diff < 0) manageError = await createPods(rs, key, Math.min(-diff, burst));
      if (diff > 0) {
        const victims = podsToDelete({
          pods: owned,
          count: Math.min(diff, burst),
          related: relatedPods(rs, owned),
        });
        manageError = await deletePods(rs, key, victims);
      }
    }

    const now = new Date();
    const minReadySeconds = rs.spec.minReadySeconds ?? 0;
    const counts = replicaCounts({
      pods: owned,
      templateLabels: rs.spec.template?.metadata?.labels ?? {},
      minReadySeconds,
      now,
    });
    const status: ReplicaSetStatus = {
      ...counts,
      observedGeneration: rs.metadata.generation ?? 1,
      ...replicaFailure(rs.status?.conditions, manageError, rs.spec.replicas ?? 1, owned.length),
    };
    await writeStatus(rs, status);
    if (manageError === undefined && minReadySeconds > 0) {
      // Come back when the next ready pod has been ready for minReadySeconds.
      const soonest = owned
        .map((pod) => availableAt(pod, minReadySeconds, now)?.getTime())
        .filter((at): at is number => at !== undefined)
        .sort((a, b) => a - b)[0];
      if (soonest !== undefined) timers.after(key, soonest - now.getTime());
    }
    if (manageError !== undefined) throw manageError;
  }

  replicaSets.start();
  pods.start();
  const ready = Promise.all([replicaSets.waitForSync(), pods.waitForSync()]).then(() => {
    queue.process(reconcile);
  });
  return {
    ready,
    async stop() {
      timers.stop();
      replicaSets.stop();
      pods.stop();
      await queue.close();
    },
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The ReplicaFailure condition Kubernetes sets while pods cannot be created or deleted. */
function replicaFailure(
  previous: readonly WorkloadCondition[] | undefined,
  error: unknown,
  desired: number,
  actual: number,
): { conditions?: WorkloadCondition[] } {
  const others = (previous ?? []).filter((condition) => condition.type !== 'ReplicaFailure');
  const existing = previous?.find((condition) => condition.type === 'ReplicaFailure');
  if (error !== undefined) {
    const reason = actual < desired ? 'FailedCreate' : 'FailedDelete';
    const message = errorText(error);
    const condition: WorkloadCondition =
      existing?.reason === reason && existing.message === message
        ? existing
        : { type: 'ReplicaFailure', status: 'True', lastTransitionTime: kubeTimestamp(), reason, message };
    return { conditions: [...others, condition] };
  }
  return others.length > 0 ? { conditions: [...others] } : {};
}

function sameStatus(current: ReplicaSetStatus | undefined, next: ReplicaSetStatus): boolean {
  if (!current) return false;
  const fields = [
    'replicas',
    'fullyLabeledReplicas',
    'readyReplicas',
    'availableReplicas',
    'observedGeneration',
  ] as const;
  return (
    fields.every((field) => (current[field] ?? 0) === (next[field] ?? 0)) &&
    JSON.stringify(current.conditions ?? []) === JSON.stringify(next.conditions ?? [])
  );
}
