// How long a rolling update takes on a real cluster: a Deployment of --replicas (default 30) across
// --nodes (default 3) with maxSurge 25 % / maxUnavailable 25 %, rolled to a new pod template once
// every replica is available; timed from the template change to `rollout status` success, with the
// peak pod count and the lowest available count seen on the way (the rollout's invariants).
//
//   node dist/bench/rollout/rollout.bench.js [--replicas 30] [--nodes 3]
import { resourceTypeForKind, type Deployment, type KubeObject, type Pod } from '@flotilla/api';
import { createInformer } from '@flotilla/client';
import { benchOptions } from '../support/bench-options';
import { round } from '../support/stats';
import { startScratchCluster } from '../support/scratch-cluster';

const options = benchOptions({
  command: 'node dist/bench/rollout/rollout.bench.js',
  summary:
    'How long a rolling update of a Deployment takes on a real cluster (maxSurge/maxUnavailable 25 %),\n' +
    'with the peak pod count and the lowest available count seen on the way.',
  options: {
    replicas: { kind: 'number', default: 30, help: "the Deployment's replicas" },
    nodes: { kind: 'number', default: 3, help: 'nodes of the scratch cluster' },
  },
});
const replicas = options.replicas;
const nodeCount = options.nodes;
const NAMESPACE = 'default';
const NAME = 'rollout-bench';

type DeploymentObject = Deployment & KubeObject;
type PodObject = Pod & KubeObject;

function deployment(revision: string): DeploymentObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: NAME, namespace: NAMESPACE },
    spec: {
      replicas,
      selector: { matchLabels: { app: NAME } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: NAME }, annotations: { 'bench/revision': revision } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'web',
              image: 'flotilla/busybox:latest',
              imagePullPolicy: 'IfNotPresent',
              command: ['httpd', '-f', '-p', '8080', '-h', '/var/www'],
              ports: [{ name: 'http', containerPort: 8080 }],
              resources: { requests: { cpu: '10m', memory: '8Mi' }, limits: { memory: '32Mi' } },
              readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  } as DeploymentObject;
}

async function main(): Promise<void> {
  const cluster = await startScratchCluster({ nodes: nodeCount, name: 'rollout' });
  try {
    const type = resourceTypeForKind('apps/v1', 'Deployment');
    const podType = resourceTypeForKind('v1', 'Pod');
    if (!type || !podType) throw new Error('resource types missing');
    await cluster.client.apply(type, deployment('1'), { namespace: NAMESPACE, fieldManager: 'bench' });
    const firstStart = performance.now();
    await cluster.flotilla(['rollout', 'status', `deploy/${NAME}`, '--timeout', '10m']);
    const firstSeconds = (performance.now() - firstStart) / 1000;

    // Watch every pod of the deployment during the update for the invariants' extremes.
    let peakPods = 0;
    let lowestReady = Number.POSITIVE_INFINITY;
    let measuring = false;
    const pods = createInformer<PodObject>({
      client: cluster.client,
      resource: podType,
      namespace: NAMESPACE,
      labelSelector: `app=${NAME}`,
    });
    const sample = (): void => {
      if (!measuring) return;
      const live = pods.list().filter((pod) => !pod.metadata.deletionTimestamp);
      const ready = live.filter((pod) =>
        (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      peakPods = Math.max(peakPods, live.length);
      lowestReady = Math.min(lowestReady, ready.length);
    };
    pods.addEventHandler({ onAdd: sample, onUpdate: sample, onDelete: sample });
    pods.start();
    await pods.waitForSync();

    measuring = true;
    sample();
    const start = performance.now();
    await cluster.client.apply(type, deployment('2'), { namespace: NAMESPACE, fieldManager: 'bench' });
    await cluster.flotilla(['rollout', 'status', `deploy/${NAME}`, '--timeout', '10m']);
    const seconds = (performance.now() - start) / 1000;
    measuring = false;
    pods.stop();

    process.stdout.write(
      JSON.stringify(
        {
          benchmark: 'rollout',
          measure: 'template change → rollout status success (every replica updated and available)',
          nodes: nodeCount,
          replicas,
          strategy: { maxSurge: '25%', maxUnavailable: '25%' },
          initialRolloutSeconds: round(firstSeconds),
          rollingUpdateSeconds: round(seconds),
          peakPods,
          allowedPeakPods: replicas + Math.ceil(replicas * 0.25),
          lowestReady: Number.isFinite(lowestReady) ? lowestReady : null,
          allowedLowestReady: replicas - Math.floor(replicas * 0.25),
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    cluster.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/rollout: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
