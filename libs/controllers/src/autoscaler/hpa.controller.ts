// The HorizontalPodAutoscaler controller. Handlers only enqueue "namespace/name" keys; the queue's
// resync brings every HPA back every sync period (a few seconds, not Kubernetes' 15 s, so a load step
// is acted on quickly), and hpa-sync.ts does one pass from the informer caches, the target's scale
// subresource and the metrics API. What Kubernetes keeps in memory per HPA (recent recommendations
// and scale events, for stabilization windows and rate policies) is kept here too, per key.
import {
  createEventRecorder,
  createInformer,
  objectKey,
  type Informer,
  type RestClient,
} from '@flotilla/client';
import type { DeploymentObject, PodObject } from '../replicaset/kube-objects';
import { typeOf } from '../replicaset/kube-objects';
import { createControllerQueue, type ControllerLog } from '../shared/controller-queue';
import type { BehaviorHistory } from './behavior.util';
import { COMPONENT, syncHpa, type HpaObject, type HpaSyncContext, type HpaTuning } from './hpa-sync';
import { metricsApiPodMetricsSource, type PodMetricsSource } from './pod-metrics.source';
import {
  DEFAULT_CPU_INITIALIZATION_PERIOD_MS,
  DEFAULT_INITIAL_READINESS_DELAY_MS,
  DEFAULT_TOLERANCE,
} from './replica-calculator.util';

export const DEFAULT_HPA_SYNC_PERIOD_MS = 3000;

export interface HpaControllerOptions {
  readonly client: RestClient;
  readonly redisUrl: string;
  readonly queueName?: string;
  /** How often every HPA is evaluated (kube-controller-manager's --horizontal-pod-autoscaler-sync-period). */
  readonly syncPeriodMs?: number;
  /** Where pod usage comes from; the resource metrics API unless told. */
  readonly podMetrics?: PodMetricsSource;
  readonly tuning?: Partial<HpaTuning>;
  readonly concurrency?: number;
  readonly now?: () => Date;
  readonly log?: ControllerLog;
}

export interface RunningHpaController {
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

export function startHpaController(options: HpaControllerOptions): RunningHpaController {
  const { client } = options;
  const log = options.log ?? (() => undefined);
  const hpaType = typeOf('HorizontalPodAutoscaler');
  const hpas: Informer<HpaObject> = createInformer({ client, resource: hpaType });
  const deployments: Informer<DeploymentObject> = createInformer({ client, resource: typeOf('Deployment') });
  const pods: Informer<PodObject> = createInformer({ client, resource: typeOf('Pod') });
  const events = createEventRecorder({
    client,
    component: COMPONENT,
    onError: (error) => log('could not record an event', { error: String(error) }),
  });
  const memory = new Map<string, BehaviorHistory>();
  const context: HpaSyncContext = {
    client,
    events,
    podMetrics: options.podMetrics ?? metricsApiPodMetricsSource(client),
    pods,
    deployments,
    hpaType,
    tuning: {
      tolerance: options.tuning?.tolerance ?? DEFAULT_TOLERANCE,
      cpuInitializationPeriodMs:
        options.tuning?.cpuInitializationPeriodMs ?? DEFAULT_CPU_INITIALIZATION_PERIOD_MS,
      initialReadinessDelayMs: options.tuning?.initialReadinessDelayMs ?? DEFAULT_INITIAL_READINESS_DELAY_MS,
    },
    now: options.now ?? (() => new Date()),
    memory,
  };
  const { queue, enqueue } = createControllerQueue({
    name: options.queueName ?? COMPONENT,
    redisUrl: options.redisUrl,
    concurrency: options.concurrency ?? 4,
    resyncIntervalMs: options.syncPeriodMs ?? DEFAULT_HPA_SYNC_PERIOD_MS,
    keys: () => hpas.list().map((hpa) => objectKey(hpa)),
    noun: 'hpa',
    log,
  });

  hpas.addEventHandler({
    onAdd: (hpa) => enqueue(objectKey(hpa)),
    onUpdate: (previous, hpa) => {
      // Our own status writes come back as updates; only a changed spec needs a pass before the resync.
      if (previous.metadata.generation !== hpa.metadata.generation) enqueue(objectKey(hpa));
    },
    onDelete: (hpa) => memory.delete(objectKey(hpa)),
  });
  // A rollout starting or ending changes how load is read: look again at once.
  deployments.addEventHandler({
    onUpdate: (_previous, deployment) => {
      for (const hpa of hpas.list()) {
        const ref = hpa.spec.scaleTargetRef;
        if (
          ref.kind === 'Deployment' &&
          ref.name === deployment.metadata.name &&
          hpa.metadata.namespace === deployment.metadata.namespace
        ) {
          enqueue(objectKey(hpa));
        }
      }
    },
  });

  async function reconcile(key: string): Promise<void> {
    const hpa = hpas.get(key);
    if (!hpa) {
      memory.delete(key);
      return;
    }
    if (hpa.metadata.deletionTimestamp !== undefined) return;
    await syncHpa(context, key, hpa);
  }

  const informers = [hpas, deployments, pods];
  for (const informer of informers) informer.start();
  const ready = Promise.all(informers.map((informer) => informer.waitForSync())).then(() => {
    queue.process(reconcile);
  });
  return {
    ready,
    async stop() {
      for (const informer of informers) informer.stop();
      await queue.close();
    },
  };
}
