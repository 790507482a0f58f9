// The Deployment controller, as Kubernetes': handlers only enqueue "namespace/name" keys, and
// reconcile(key) reads the informer caches, claims the Deployment's ReplicaSets by controller
// reference, and hands over to the verb that applies:
//  - being deleted: status only (the garbage collector removes its ReplicaSets);
//  - paused, or resized: sync.ts (proportional scaling, no rollout);
//  - the deprecated rollback annotation: rollback.ts;
//  - otherwise the strategy: rolling.ts or recreate.ts, ending in progress.ts's status.
// Every step reads what is and writes toward what should be, so a lost event or a restart costs a
// delay, never a wrong pod count.
import { SelectorError, labelSelectorMatcher, type KubeObject, type LabelMatcher } from '@flotilla/api';
import {
  createEventRecorder,
  createInformer,
  isConflict,
  objectKey,
  type Informer,
  type RestClient,
} from '@flotilla/client';
import { claimObjects } from '../replicaset/claim-objects';
import { controllerRef } from '../replicaset/controller-ref.util';
import {
  typeOf,
  type DeploymentObject,
  type PodObject,
  type ReplicaSetObject,
} from '../replicaset/kube-objects';
import { RequeueTimers } from '../replicaset/requeue-timers';
import { COMPONENT, shapeOf, writeStatus, type DeploymentContext } from './deployment-context';
import { calculateStatus } from './deployment-status.util';
import { checkPausedConditions } from './progress';
import { rolloutRecreate } from './recreate';
import { rollback, rollbackRevision } from './rollback';
import { rolloutRolling } from './rolling';
import { findNewReplicaSet, isScalingEvent, sync } from './sync';
import { createControllerQueue } from '../shared/controller-queue';

export interface DeploymentControllerOptions {
  readonly client: RestClient;
  readonly redisUrl: string;
  readonly queueName?: string;
  /** Deployments this process reconciles at once. */
  readonly concurrency?: number;
  readonly resyncIntervalMs?: number;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface RunningDeploymentController {
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

export function startDeploymentController(options: DeploymentControllerOptions): RunningDeploymentController {
  const { client } = options;
  const log = options.log ?? (() => undefined);
  const types = { deployment: typeOf('Deployment'), replicaSet: typeOf('ReplicaSet') };
  const deployments: Informer<DeploymentObject> = createInformer({ client, resource: types.deployment });
  const replicaSets: Informer<ReplicaSetObject> = createInformer({ client, resource: types.replicaSet });
  const pods: Informer<PodObject> = createInformer({ client, resource: typeOf('Pod') });
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
    keys: () => deployments.list().map((deployment) => objectKey(deployment)),
    noun: 'deployment',
    log,
  });
  const timers = new RequeueTimers(enqueue);

  const selectorOf = (deployment: DeploymentObject): LabelMatcher | undefined => {
    try {
      return labelSelectorMatcher(deployment.spec.selector);
    } catch (error) {
      if (error instanceof SelectorError) return undefined;
      throw error;
    }
  };
  /** The Deployment a controller reference names, if our cache has that very one. */
  const ownerOf = (object: KubeObject): DeploymentObject | undefined => {
    const ref = controllerRef(object);
    if (ref?.kind !== 'Deployment') return undefined;
    const deployment = deployments.get(`${object.metadata.namespace ?? ''}/${ref.name}`);
    return deployment?.metadata.uid === ref.uid ? deployment : undefined;
  };
  const enqueueOwner = (object: KubeObject): void => {
    const owner = ownerOf(object);
    if (owner) enqueue(objectKey(owner));
  };
  /** Deployments that might adopt an orphan ReplicaSet. */
  const enqueueMatching = (rs: ReplicaSetObject): void => {
    for (const deployment of deployments.list()) {
      if (deployment.metadata.namespace !== rs.metadata.namespace) continue;
      const selector = selectorOf(deployment);
      if (selector && !selector.empty && selector.matches(rs.metadata.labels)) enqueue(objectKey(deployment));
    }
  };
  const replicaSetOwner = (pod: PodObject): DeploymentObject | undefined => {
    const ref = controllerRef(pod);
    if (ref?.kind !== 'ReplicaSet') return undefined;
    const rs = replicaSets.get(`${pod.metadata.namespace ?? ''}/${ref.name}`);
    return rs && rs.metadata.uid === ref.uid ? ownerOf(rs) : undefined;
  };

  deployments.addEventHandler({
    onAdd: (deployment) => enqueue(objectKey(deployment)),
    onUpdate: (_previous, deployment) => enqueue(objectKey(deployment)),
    onDelete: (deployment) => enqueue(objectKey(deployment)),
  });
  replicaSets.addEventHandler({
    onAdd: (rs) => {
      if (controllerRef(rs)) enqueueOwner(rs);
      else enqueueMatching(rs);
    },
    onUpdate: (previous, rs) => {
      const before = ownerOf(previous);
      const after = ownerOf(rs);
      if (before && before.metadata.uid !== after?.metadata.uid) enqueue(objectKey(before));
      if (after) enqueue(objectKey(after));
      else if (!controllerRef(rs)) enqueueMatching(rs);
    },
    onDelete: enqueueOwner,
  });
  // Recreate waits for old pods to be gone, which only their deletion tells.
  pods.addEventHandler({
    onDelete: (pod) => {
      const owner = replicaSetOwner(pod);
      if (owner?.spec.strategy?.type === 'Recreate') enqueue(objectKey(owner));
    },
  });

  async function reconcile(key: string): Promise<void> {
    const cached = deployments.get(key);
    if (!cached) return;
    const namespace = cached.metadata.namespace;
    const selector = selectorOf(cached);
    if (!selector || selector.empty) {
      // Kubernetes refuses to let a Deployment select every pod in its namespace.
      void events.record(
        cached,
        'Warning',
        'SelectingAll',
        'This deployment is selecting all pods. A non-empty selector is required.',
      );
      return;
    }
    const owned = await claimObjects({
      client,
      type: types.replicaSet,
      ownerType: types.deployment,
      owner: cached,
      candidates: replicaSets.list().filter((rs) => rs.metadata.namespace === namespace),
      matches: (rs) => selector.matches(rs.metadata.labels),
      fieldManager: COMPONENT,
    });
    const uids = new Set(owned.map((rs) => rs.metadata.uid));
    const podsByReplicaSet = new Map<string, PodObject[]>();
    for (const pod of pods.list()) {
      const ref = controllerRef(pod);
      if (pod.metadata.namespace !== namespace || !ref || !uids.has(ref.uid)) continue;
      podsByReplicaSet.set(ref.uid, [...(podsByReplicaSet.get(ref.uid) ?? []), pod]);
    }
    const context: DeploymentContext = {
      client,
      events,
      types,
      now: () => new Date(),
      deployment: cached,
      replicaSets: [...owned],
      podsByReplicaSet,
      requeueAfter: (delayMs) => timers.after(key, delayMs),
    };
    try {
      await run(context);
    } catch (error) {
      // A stale write: the next attempt starts from the newer objects.
      if (isConflict(error))
        throw new Error(`conflict writing deployment ${key} or its replica sets; retrying`);
      throw error;
    }
  }

  async function run(context: DeploymentContext): Promise<void> {
    const deployment = context.deployment;
    if (deployment.metadata.deletionTimestamp !== undefined) {
      const status = calculateStatus({
        deployment: shapeOf(deployment),
        replicaSets: context.replicaSets,
        newReplicaSet: findNewReplicaSet(context),
        now: context.now(),
      });
      return writeStatus(context, status);
    }
    await checkPausedConditions(context);
    if (context.deployment.spec.paused) return sync(context);
    const rollbackTo = rollbackRevision(context.deployment);
    if (rollbackTo !== undefined) return rollback(context, rollbackTo);
    if (isScalingEvent(context)) return sync(context);
    if (context.deployment.spec.strategy?.type === 'Recreate') return rolloutRecreate(context);
    return rolloutRolling(context);
  }

  for (const informer of [deployments, replicaSets, pods]) informer.start();
  const ready = Promise.all([deployments.waitForSync(), replicaSets.waitForSync(), pods.waitForSync()]).then(
    () => {
      queue.process(reconcile);
    },
  );
  return {
    ready,
    async stop() {
      timers.stop();
      for (const informer of [deployments, replicaSets, pods]) informer.stop();
      await queue.close();
    },
  };
}
