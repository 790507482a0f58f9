// The Deployment tests' test bed: a real control plane with a namespace, the controllers a rollout
// needs (Deployment, ReplicaSet, garbage collector) in-process on the test's Redis with queue names of
// their own run, the nodes the test plays (replicaset-node.fixture.ts), and, for the autoscaler's
// tests, the HPA controller reading the load the test sets (hpa-metrics.fixture.ts).
import { randomUUID } from 'node:crypto';
import { resolveResourceName } from '@flotilla/api';
import { createClient, type RestClient } from '@flotilla/client';
import {
  startDeploymentController,
  startGarbageCollector,
  startHpaController,
  startReplicaSetController,
} from '@flotilla/controllers';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { requireTestEnv } from '../support/eventually';
import { loadSharingPodMetrics } from './hpa-metrics.fixture';
import { startFakeNodes, type FakeNodes, type FakeNodesOptions } from './replicaset-node.fixture';

export interface WorkloadTestBedOptions {
  /** Names the control plane's directory. */
  readonly name: string;
  /** Created first; the fake nodes serve its pods. */
  readonly namespace: string;
  readonly nodes: readonly string[];
  readonly ready?: FakeNodesOptions['ready'];
  readonly waiting?: FakeNodesOptions['waiting'];
  /** Runs the HPA controller too (sync every 500 ms), with each app's total cpu load in millicores. */
  readonly autoscaling?: { readonly load: Map<string, number> };
}

export interface WorkloadTestBed {
  readonly cp: TestControlPlane;
  readonly client: RestClient;
  readonly nodes: FakeNodes;
  /** Controllers first (nothing asks for work while it stops), then the nodes, then the control plane. */
  stop(): Promise<void>;
}

export interface WorkloadControllersOptions {
  readonly client: RestClient;
  readonly redisUrl: string;
}

export interface WorkloadControllers {
  /** Resolves when every controller has synced its informers. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** The Deployment and ReplicaSet controllers and the garbage collector, started and stopped together. */
export function startWorkloadControllers(options: WorkloadControllersOptions): WorkloadControllers {
  const { client, redisUrl } = options;
  const id = randomUUID();
  const deployments = startDeploymentController({ client, redisUrl, queueName: `deploy-${id}` });
  const replicaSets = startReplicaSetController({ client, redisUrl, queueName: `rs-${id}` });
  const collector = startGarbageCollector({ client, redisUrl, queueName: `gc-${id}` });
  return {
    ready: Promise.all([deployments.ready, replicaSets.ready, collector.ready]).then(() => undefined),
    // Deployments first, so nothing asks the ReplicaSet controller for work while it stops.
    async stop() {
      await deployments.stop();
      await replicaSets.stop();
      await collector.stop();
    },
  };
}

export async function startWorkloadTestBed(options: WorkloadTestBedOptions): Promise<WorkloadTestBed> {
  const redisUrl = requireTestEnv('FLOTILLA_TEST_REDIS');
  const cp = await startTestControlPlane(options.name);
  const client = createClient({ kubeconfig: cp.kubeconfigPath, env: {} });
  const namespaces = resolveResourceName('namespaces');
  if (!namespaces) throw new Error('no resource type namespaces');
  await client.create(namespaces, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: options.namespace },
  });
  const controllers = startWorkloadControllers({ client, redisUrl });
  const autoscaler = options.autoscaling
    ? startHpaController({
        client,
        redisUrl,
        queueName: `hpa-${randomUUID()}`,
        syncPeriodMs: 500,
        podMetrics: loadSharingPodMetrics(client, options.autoscaling.load),
      })
    : undefined;
  const nodes = startFakeNodes({
    cp,
    client,
    namespace: options.namespace,
    nodes: options.nodes,
    ...(options.ready ? { ready: options.ready } : {}),
    ...(options.waiting ? { waiting: options.waiting } : {}),
  });
  await Promise.all([controllers.ready, autoscaler?.ready, nodes.pods.waitForSync()]);
  return {
    cp,
    client,
    nodes,
    async stop() {
      await autoscaler?.stop();
      nodes.stop();
      await nodes.settled();
      await controllers.stop();
      client.close();
      await cp.stop();
    },
  };
}
