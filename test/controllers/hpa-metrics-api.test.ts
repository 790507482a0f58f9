// The autoscaler on the real metrics pipeline, end to end except for the containers themselves: two
// hollow nodes (libs/node-agent's HollowNode: the agent's real NodeConnection over mutual-TLS gRPC)
// register with a real control plane; the real scheduler places the pods, the hollow pod engines report
// them Running and Ready, and every second each node sends its pods' cumulative cpu time up the stream
// as a real agent reads it from cgroups. The apiserver turns those samples into metrics.k8s.io
// PodMetrics (libs/apiserver/src/metrics), and the HPA controller reads them through that API (its
// default PodMetricsSource). Only the cpu burnt is the test's: each Running pod of the app accrues an
// equal share of a total load the test sets, as a Service would spread requests.
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  resolveResourceName,
  type Deployment,
  type HorizontalPodAutoscaler,
  type KubeObject,
  type ResourceType,
} from '@flotilla/api';
import { createClient, type RestClient } from '@flotilla/client';
import { startHpaController, type RunningHpaController } from '@flotilla/controllers';
import { HollowNode, issueHollowNodeCertificates, type NodeUsageSample } from '@flotilla/node-agent';
import { startScheduler, type RunningScheduler } from '@flotilla/scheduler';
import pino from 'pino';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { requireTestEnv, until } from '../support/eventually';
import { startWorkloadControllers, type WorkloadControllers } from './workload-controllers.fixture';

const redisUrl = requireTestEnv('FLOTILLA_TEST_REDIS');
const runId = randomBytes(4).toString('hex');
const namespace = `hpa-metrics-${runId}`;
const nodeNames = [`hpa-${runId}-a`, `hpa-${runId}-b`];
const logger = pino({ level: process.env['FLOTILLA_TEST_LOG'] ?? 'silent' });

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}
const DEPLOYMENTS = type('deployments');
const HPAS = type('horizontalpodautoscalers');
const EVENTS = type('events');
type HpaObject = HorizontalPodAutoscaler & KubeObject;

let plane: TestControlPlane;
let client: RestClient;
let scheduler: RunningScheduler | undefined;
let controllers: WorkloadControllers | undefined;
let hpaController: RunningHpaController | undefined;
const hollowNodes: HollowNode[] = [];
/** Total cpu load of the app, millicores. */
let loadMilli = 0;

/** Cumulative cpu nanoseconds per pod uid, advanced at every sample by the pod's share of the load. */
const cpuNanos = new Map<string, bigint>();
/** When each running pod was last sampled (by whichever node runs it). */
const sampledAt = new Map<string, number>();

/** Wraps a hollow engine's usage so its running pods burn their share of `loadMilli`. */
function burnLoad(sample: NodeUsageSample): NodeUsageSample {
  const now = Date.now();
  // Each node samples on its own 1 s timer: the app's pods are those sampled within the last 2.5 s.
  for (const pod of sample.pods) if (!sampledAt.has(pod.uid)) sampledAt.set(pod.uid, now);
  const running = [...sampledAt.values()].filter((at) => now - at < 2500).length;
  const share = running === 0 ? 0 : loadMilli / running;
  return {
    ...sample,
    pods: sample.pods.map((pod) => {
      const last = sampledAt.get(pod.uid) ?? now;
      sampledAt.set(pod.uid, now);
      // millicores × ms × 1,000 = nanoseconds of cpu
      const total = (cpuNanos.get(pod.uid) ?? 0n) + BigInt(Math.round(share * (now - last) * 1000));
      cpuNanos.set(pod.uid, total);
      return {
        ...pod,
        containers: pod.containers.map((container) => ({ ...container, cpuUsageNanos: total })),
      };
    }),
  };
}

beforeAll(async () => {
  plane = await startTestControlPlane('hpa-metrics', { nodeService: true, heartbeatIntervalSeconds: 1 });
  client = createClient({ kubeconfig: plane.kubeconfigPath, env: {} });
  await client.create(type('namespaces'), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
  const certificates = await issueHollowNodeCertificates({
    dir: join(plane.dir, 'hollow-pki'),
    caCertFile: plane.caFile,
    caKeyFile: plane.caKeyFile,
    nodeNames,
  });
  nodeNames.forEach((name, i) => {
    const tls = certificates.get(name);
    if (!tls) throw new Error(`no certificate for ${name}`);
    hollowNodes.push(
      new HollowNode({
        name,
        apiserver: `127.0.0.1:${plane.grpcPort ?? 0}`,
        tls,
        address: `10.201.0.${i + 1}`,
        logger,
        metricsIntervalMs: 1000,
        backoff: { initialMs: 100, maxMs: 1000 },
      }),
    );
  });
  for (const node of hollowNodes) {
    await node.register();
    const engine = node.pods;
    if (!engine) throw new Error(`hollow node ${node.name} has no pod engine after registering`);
    const idle = engine.usage.bind(engine);
    // The cpu a container burns is the one thing a hollow engine cannot know: the test supplies it.
    engine.usage = async () => burnLoad(await idle());
    node.connect();
  }
  scheduler = startScheduler({
    client,
    redisUrl,
    queueName: `hpa-sched-${randomUUID()}`,
    resyncIntervalMs: 2000,
  });
  controllers = startWorkloadControllers({ client, redisUrl });
  hpaController = startHpaController({
    client,
    redisUrl,
    queueName: `hpa-${randomUUID()}`,
    syncPeriodMs: 1000,
  });
  await Promise.all([scheduler.ready, controllers.ready, hpaController.ready]);
});

afterAll(async () => {
  await hpaController?.stop();
  await controllers?.stop();
  await scheduler?.stop();
  await Promise.all(hollowNodes.map((node) => node.close()));
  client?.close();
  await plane?.stop();
});

const replicasOf = async (): Promise<number | undefined> =>
  (await client.get<Deployment & KubeObject>(DEPLOYMENTS, 'web', { namespace })).spec.replicas;

test('scales on PodMetrics served by the metrics API from the agents’ samples, up under load and down after it', async () => {
  await client.apply<Deployment & KubeObject>(
    DEPLOYMENTS,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'flotilla/busybox:latest',
                resources: { requests: { cpu: '100m', memory: '16Mi' } },
              },
            ],
          },
        },
      },
    },
    { namespace, fieldManager: 'flotilla' },
  );
  // The metrics API serves both pods once each has two samples.
  await until(
    'PodMetrics for both pods',
    async () => {
      const list = await client.request<{ items: unknown[] }>({
        method: 'GET',
        path: `/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods`,
        query: { labelSelector: 'app=web' },
      });
      return list.items.length === 2 || undefined;
    },
    30_000,
  );

  loadMilli = 300;
  await client.create(
    HPAS,
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 6,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
          },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 1 } },
      },
    } satisfies HpaObject,
    { namespace },
  );
  // 300m over 2 pods of 100m = 150 % against 50 % → 6 replicas. The first window after the load
  // step may still be partly idle, so the way there can take a step more (2 → 3 → 6).
  await until('web scaled up to 6', async () => (await replicasOf()) === 6 || undefined, 30_000);
  const measured = await until(
    'the hpa to report about 50 % over 6 replicas from the metrics API',
    async () => {
      const hpa = await client.get<HpaObject>(HPAS, 'web', { namespace });
      const utilization = hpa.status?.currentMetrics?.[0]?.resource?.current.averageUtilization ?? 0;
      return hpa.status?.currentReplicas === 6 && utilization > 35 && utilization < 65 ? hpa : undefined;
    },
    30_000,
  );
  expect(measured.status?.conditions?.find((condition) => condition.type === 'ScalingActive')).toMatchObject({
    status: 'True',
    reason: 'ValidMetricFound',
  });
  const events = await client.list(EVENTS, {
    namespace,
    fieldSelector: 'involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=web',
  });
  const up = events.items.find((event) => String(event['message']).startsWith('New size: 6;'));
  expect(up).toMatchObject({ reason: 'SuccessfulRescale', type: 'Normal' });
  expect(String(up?.['message'])).toMatch(
    /^New size: 6; reason: cpu resource utilization \(percentage of request\) above target \(cpu: \d+% of request, target 50%; was [2-5]\)$/,
  );

  loadMilli = 0;
  await until(
    'web scaled down to 1 after the load stopped',
    async () => (await replicasOf()) === 1 || undefined,
    40_000,
  );
});
