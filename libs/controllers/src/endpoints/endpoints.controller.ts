// The endpoints controller, as Kubernetes': for every Service with a selector, an Endpoints object
// of the same name listing the matching pods' IPs, ready ones under `addresses` and the rest under
// `notReadyAddresses`, so node agents send Service traffic only to ready pods. Handlers only enqueue
// the Service's `namespace/name`; reconcile re-reads the Service and pods from the informer caches
// (never mutating them), computes the subsets (endpoints.util.ts) and writes only on a difference.
// Services without a selector keep the Endpoints their users write.
import { isDeepStrictEqual } from 'node:util';
import { labelSelectorMatcher, type Endpoints, type KubeObject, type Service } from '@flotilla/api';
import {
  createInformer,
  isConflict,
  isNotFound,
  objectKey,
  type Informer,
  type RestClient,
} from '@flotilla/client';
import { typeOf, type PodObject } from '../replicaset/kube-objects';
import { createControllerQueue, type ControllerLog } from '../shared/controller-queue';
import { endpointSubsets } from './endpoints.util';

const COMPONENT = 'endpoint-controller';
/** Kubernetes labels the Endpoints of a headless Service so proxies can skip it. */
const HEADLESS_LABEL = 'service.kubernetes.io/headless';

type ServiceObject = Service & KubeObject;
type EndpointsObject = Endpoints & KubeObject;

export interface EndpointsControllerOptions {
  readonly client: RestClient;
  readonly redisUrl: string;
  readonly queueName?: string;
  /** Services this process reconciles at once. */
  readonly concurrency?: number;
  readonly resyncIntervalMs?: number;
  readonly log?: ControllerLog;
}

export interface RunningEndpointsController {
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

function desiredLabels(service: ServiceObject): Record<string, string> {
  const labels = { ...(service.metadata.labels ?? {}) };
  if (service.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  return labels;
}

export function startEndpointsController(options: EndpointsControllerOptions): RunningEndpointsController {
  const { client } = options;
  const log = options.log ?? (() => undefined);
  const types = { service: typeOf('Service'), endpoints: typeOf('Endpoints'), pod: typeOf('Pod') };
  const services: Informer<ServiceObject> = createInformer({ client, resource: types.service });
  const pods: Informer<PodObject> = createInformer({ client, resource: types.pod });
  const endpoints: Informer<EndpointsObject> = createInformer({ client, resource: types.endpoints });
  const { queue, enqueue } = createControllerQueue({
    name: options.queueName ?? COMPONENT,
    redisUrl: options.redisUrl,
    concurrency: options.concurrency ?? 4,
    resyncIntervalMs: options.resyncIntervalMs ?? 30_000,
    keys: () => services.list().map((service) => objectKey(service)),
    noun: 'service',
    log,
  });

  /** Services in the pod's namespace whose selector picks these labels. */
  const enqueueServicesOf = (pod: PodObject): void => {
    const namespace = pod.metadata.namespace ?? '';
    for (const service of services.list()) {
      const selector = service.spec?.selector;
      if (service.metadata.namespace !== namespace || selector === undefined) continue;
      if (labelSelectorMatcher({ matchLabels: selector }).matches(pod.metadata.labels)) {
        enqueue(objectKey(service));
      }
    }
  };

  services.addEventHandler({
    onAdd: (service) => enqueue(objectKey(service)),
    onUpdate: (_previous, service) => enqueue(objectKey(service)),
    onDelete: (service) => enqueue(objectKey(service)),
  });
  pods.addEventHandler({
    onAdd: enqueueServicesOf,
    onUpdate: (previous, pod) => {
      enqueueServicesOf(previous);
      enqueueServicesOf(pod);
    },
    onDelete: enqueueServicesOf,
  });
  // Someone else edited or removed what we keep: put it back.
  endpoints.addEventHandler({
    onUpdate: (_previous, object) => enqueue(objectKey(object)),
    onDelete: (object) => enqueue(objectKey(object)),
  });

  async function reconcile(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const service = services.get(key);
    const existing = endpoints.get(key);
    if (!service) {
      if (existing) {
        await client.delete(types.endpoints, name, { namespace }).catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
      }
      return;
    }
    const selector = service.spec?.selector;
    if (selector === undefined) return;
    const matcher = labelSelectorMatcher({ matchLabels: selector });
    const matching = pods
      .list()
      .filter((pod) => pod.metadata.namespace === namespace && matcher.matches(pod.metadata.labels));
    const subsets = endpointSubsets(service, matching);
    const labels = desiredLabels(service);
    if (
      existing &&
      isDeepStrictEqual(existing.subsets ?? [], subsets) &&
      isDeepStrictEqual(existing.metadata.labels ?? {}, labels)
    ) {
      return;
    }
    const object: EndpointsObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name,
        namespace,
        labels,
        ...(existing?.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
      },
      ...(subsets.length > 0 ? { subsets } : {}),
    };
    try {
      if (existing) await client.update(types.endpoints, object, { namespace });
      else await client.create(types.endpoints, object, { namespace });
    } catch (error) {
      // The cache was behind (someone wrote it meanwhile): the watch event re-enqueues the key.
      if (isConflict(error)) throw new Error(`endpoints ${key} changed meanwhile; retrying`);
      throw error;
    }
  }

  services.start();
  pods.start();
  endpoints.start();
  const ready = Promise.all([services.waitForSync(), pods.waitForSync(), endpoints.waitForSync()]).then(
    () => {
      queue.process(reconcile);
    },
  );
  return {
    ready,
    async stop() {
      services.stop();
      pods.stop();
      endpoints.stop();
      await queue.close();
    },
  };
}
