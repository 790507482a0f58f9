// The controllers a Deployment needs to roll out, in-process on the test's Redis with queue names of
// their own run: the Deployment and ReplicaSet controllers and the garbage collector that removes
// what they orphan. The Deployment tests start them together and stop them together.
import { randomUUID } from 'node:crypto';
import type { RestClient } from '@flotilla/client';
import {
  startDeploymentController,
  startGarbageCollector,
  startReplicaSetController,
} from '@flotilla/controllers';

export interface WorkloadControllersOptions {
  readonly client: RestClient;
  readonly redisUrl: string;
}

export interface WorkloadControllers {
  /** Resolves when every controller has synced its informers. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

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
