// The autoscaler on a real three-node cluster (test/support/multi-node.ts: node agents in their own
// network namespaces and cgroups, real containers): pods that burn cpu up to their cpu limit are
// measured from their cgroups by the agents, served by the apiserver's metrics.k8s.io API, and the HPA
// controller scales their Deployment up across nodes; the manifest re-applied without replicas leaves
// the count alone; raising the target scales it back down. Events and conditions say why each time.
// Then the web case: a busybox httpd whose CGI burns cpu per request, behind a NodePort Service, is
// scaled out across nodes by a bounded HTTP load on every node's address and back in once the load
// stops and the scale-down window has passed. Last, a rolling update under a steady load: the surge
// pods it adds are not load, so the autoscaler holds the count it had (Kubernetes' HPA, counting
// every pod of the rollout as a replica, answers a within-tolerance ratio with replicas + surge).
import {
  resolveResourceName,
  type Deployment,
  type HorizontalPodAutoscaler,
  type KubeObject,
  type Pod,
  type ResourceType,
  type Service,
} from '@flotilla/api';
import { until } from '../support/eventually';
import { roundRobin, startHttpLoad } from '@flotilla/loadgen';
import { BASE_IMAGE, startTestCluster, type TestCluster } from '../support/multi-node';

const NAMESPACE = 'default';

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}
const DEPLOYMENTS = type('deployments');
const HPAS = type('horizontalpodautoscalers');
const PODS = type('pods');
const SERVICES = type('services');
const EVENTS = type('events');
type DeploymentObject = Deployment & KubeObject;
type HpaObject = HorizontalPodAutoscaler & KubeObject;

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster({
    name: 'e2e-autoscale',
    // A steady HTTP load measured on a shared, busy machine moves by more than Kubernetes' 10 %; the
    // rollout test needs a steady count before it starts. Every decision here is far outside ±50 %.
    hpaTolerance: 0.5,
    nodes: [
      { name: 'as-a', cpu: '500m', memory: '256Mi' },
      { name: 'as-b', cpu: '500m', memory: '256Mi' },
      { name: 'as-c', cpu: '500m', memory: '256Mi' },
    ],
  });
});

afterAll(async () => {
  await cluster?.close();
});

/** Pods that burn cpu up to their 60m limit: 120 % of their 50m request, whatever their number. */
function burner(): DeploymentObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'burn', namespace: NAMESPACE },
    spec: {
      selector: { matchLabels: { app: 'burn' } },
      template: {
        metadata: { labels: { app: 'burn' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'burn',
              image: BASE_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', 'while :; do :; done'],
              resources: {
                requests: { cpu: '50m', memory: '16Mi' },
                limits: { cpu: '60m', memory: '32Mi' },
              },
            },
          ],
        },
      },
    },
  };
}

/** A NodePort Service in front of the pods labelled app=NAME; resolves with the node port it got. */
async function createNodePortService(name: string): Promise<number> {
  const service = await cluster.client.create<Service & KubeObject>(
    SERVICES,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: NAMESPACE },
      spec: { type: 'NodePort', selector: { app: name }, ports: [{ port: 80, targetPort: 'http' }] },
    },
    { namespace: NAMESPACE },
  );
  const nodePort = service.spec?.ports?.[0]?.nodePort ?? 0;
  expect(nodePort).toBeGreaterThanOrEqual(30000);
  return nodePort;
}

/** An HPA on the Deployment of the same name: 1 to `maxReplicas` replicas at 50 % of the cpu requested. */
async function createCpuHpa(options: {
  name: string;
  maxReplicas: number;
  /** Kubernetes waits 300 s before scaling in; a few seconds keep a test short and still show the window. */
  scaleDownWindowSeconds?: number;
}): Promise<void> {
  const { name, maxReplicas, scaleDownWindowSeconds } = options;
  await cluster.client.create(
    HPAS,
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, namespace: NAMESPACE },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: 1,
        maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
          },
        ],
        ...(scaleDownWindowSeconds !== undefined
          ? { behavior: { scaleDown: { stabilizationWindowSeconds: scaleDownWindowSeconds } } }
          : {}),
      },
    } satisfies HpaObject,
    { namespace: NAMESPACE },
  );
}

const replicas = async (): Promise<number | undefined> =>
  (await cluster.client.get<DeploymentObject>(DEPLOYMENTS, 'burn', { namespace: NAMESPACE })).spec.replicas;

async function hpaEvents(name = 'burn'): Promise<string[]> {
  const list = await cluster.client.list(EVENTS, {
    namespace: NAMESPACE,
    fieldSelector: `involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=${name}`,
  });
  return list.items.map((event) => `${String(event['reason'])}: ${String(event['message'])}`);
}

test('cpu-burning pods are scaled up across nodes from their cgroup usage, and down when the target rises', async () => {
  const { client } = cluster;
  await client.apply(DEPLOYMENTS, burner(), { namespace: NAMESPACE, fieldManager: 'flotilla' });
  await createCpuHpa({ name: 'burn', maxReplicas: 3 });

  // One pod at ~120 % of its request against 50 % → ceil(1 × 2.4) = 3 (= max).
  await until(
    'the deployment scaled to 3 by the autoscaler',
    async () => (await replicas()) === 3 || undefined,
    120_000,
  );
  const pods = await until(
    '3 running burn pods',
    async () => {
      const list = await client.list<Pod & KubeObject>(PODS, {
        namespace: NAMESPACE,
        labelSelector: 'app=burn',
      });
      const running = list.items.filter(
        (pod) => pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp,
      );
      return running.length === 3 ? running : undefined;
    },
    120_000,
  );
  expect(new Set(pods.map((pod) => pod.spec.nodeName)).size).toBeGreaterThan(1);
  const scaledUp = (await hpaEvents()).find((event) => event.startsWith('SuccessfulRescale: New size: 3;'));
  expect(scaledUp).toMatch(
    /^SuccessfulRescale: New size: 3; reason: cpu resource utilization \(percentage of request\) above target \(cpu: \d+% of request, target 50%; was [12]\)$/,
  );
  // Once the new pods' samples count (a full window after they became Ready), 3 pods at ~120 % ask
  // for ceil(3 × 2.4) = 8: more than maxReplicas, which ScalingLimited says.
  await until(
    'the hpa to measure 3 pods and be limited by maxReplicas',
    async () => {
      const hpa = await client.get<HpaObject>(HPAS, 'burn', { namespace: NAMESPACE });
      const utilization = hpa.status?.currentMetrics?.[0]?.resource?.current.averageUtilization ?? 0;
      const limited = hpa.status?.conditions?.find((condition) => condition.type === 'ScalingLimited');
      return (
        hpa.status?.currentReplicas === 3 &&
        utilization > 50 &&
        limited?.status === 'True' &&
        limited.reason === 'TooManyReplicas' &&
        limited.message === 'the desired replica count is more than the maximum replica count'
      );
    },
    60_000,
  );

  // The manifest has no replicas: applying it again leaves the autoscaler's 3.
  await client.apply(DEPLOYMENTS, burner(), { namespace: NAMESPACE, fieldManager: 'flotilla' });
  expect(await replicas()).toBe(3);

  // A target of 400 %: ~120 % is well below → down to ceil(3 × 0.3) = 1 once the window (0 s) allows.
  await client.patch(
    HPAS,
    'burn',
    {
      spec: {
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 400 } },
          },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
      },
    },
    { namespace: NAMESPACE, patchType: 'merge' },
  );
  await until('the deployment scaled back to 1', async () => (await replicas()) === 1 || undefined, 60_000);
  expect(
    (await hpaEvents()).some((event) =>
      /^SuccessfulRescale: New size: 1; reason: All metrics below target \(cpu: \d+% of request, target 400%; was 3\)$/.test(
        event,
      ),
    ),
  ).toBe(true);
});

// Each request burns cpu in a shell loop (about 20 ms of a free core, far more under a 100m quota).
const BURN_CGI = [
  '#!/bin/sh',
  // CRLF: Node's HTTP parser refuses headers ended by a bare LF, which busybox httpd passes through.
  'printf "Content-Type: text/plain\\r\\n\\r\\n"',
  'i=0; while [ $i -lt 4000 ]; do i=$((i+1)); done',
  'echo "burned on $(hostname)"',
].join('\n');

function cgiWeb(name = 'cgi'): DeploymentObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'httpd',
              image: BASE_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: [
                'sh',
                '-c',
                `mkdir -p /www/cgi-bin && printf '%s\\n' '${BURN_CGI.replace(/'/g, "'\\''")}' > /www/cgi-bin/burn && chmod +x /www/cgi-bin/burn && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www`,
              ],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
              resources: {
                requests: { cpu: '50m', memory: '16Mi' },
                limits: { cpu: '100m', memory: '32Mi' },
              },
            },
          ],
        },
      },
    },
  };
}

test('a web service under HTTP load through its NodePort scales out across nodes and back in after the load stops', async () => {
  const { client } = cluster;
  await client.apply(DEPLOYMENTS, cgiWeb(), { namespace: NAMESPACE, fieldManager: 'flotilla' });
  const nodePort = await createNodePortService('cgi');
  await createCpuHpa({ name: 'cgi', maxReplicas: 4, scaleDownWindowSeconds: 10 });
  const targets = cluster.nodes.map((node) => ({
    host: node.address,
    port: nodePort,
    path: '/cgi-bin/burn',
  }));
  await until(
    'the cgi service answering on every node',
    async () => {
      const probe = startHttpLoad({
        target: roundRobin(targets),
        concurrency: 1,
        maxRequests: targets.length,
      });
      await until('the probe requests', async () => probe.report().total === targets.length || undefined);
      const report = await probe.stop();
      return report.succeeded === targets.length || undefined;
    },
    60_000,
  );
  const cgiReplicas = async (): Promise<number> =>
    (await client.get<DeploymentObject>(DEPLOYMENTS, 'cgi', { namespace: NAMESPACE })).spec.replicas ?? 0;
  expect(await cgiReplicas()).toBe(1);

  // The load step: four clients without pause keep one 100m pod at its quota (200 % of its request).
  const load = startHttpLoad({ target: roundRobin(targets), concurrency: 4, pauseMs: 0, timeoutMs: 20_000 });
  let report;
  try {
    await until(
      'the autoscaler scaling cgi out',
      async () => ((await cgiReplicas()) > 1 ? true : undefined),
      120_000,
    );
    const running = await until(
      'cgi replicas running on more than one node',
      async () => {
        const list = await client.list<Pod & KubeObject>(PODS, {
          namespace: NAMESPACE,
          labelSelector: 'app=cgi',
        });
        const nodes = new Set(
          list.items
            .filter((pod) => pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp)
            .map((pod) => pod.spec.nodeName),
        );
        return nodes.size > 1 ? nodes : undefined;
      },
      120_000,
    );
    expect(running.size).toBeGreaterThan(1);
  } finally {
    report = await load.stop();
  }
  expect(report.succeeded).toBeGreaterThan(0);
  const list = await client.list(EVENTS, {
    namespace: NAMESPACE,
    fieldSelector: 'involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=cgi',
  });
  expect(list.items.map((event) => String(event['message']))).toContainEqual(
    expect.stringMatching(
      /^New size: [2-4]; reason: cpu resource utilization \(percentage of request\) above target/,
    ),
  );

  // The load is gone: idle pods are far below target, and after the 10 s window the count returns to 1.
  await until(
    'cgi scaled back in to 1',
    async () => ((await cgiReplicas()) === 1 ? true : undefined),
    120_000,
  );
}, 360_000);

test('a rolling update under a steady load does not make the autoscaler scale', async () => {
  const { client } = cluster;
  const name = 'steady';
  const base = cgiWeb(name);
  const deployment: DeploymentObject = {
    ...base,
    spec: {
      ...base.spec,
      // Two surge pods at a time and none taken away: the rollout briefly runs replicas + 2 pods.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } },
    },
  };
  await client.apply(DEPLOYMENTS, deployment, { namespace: NAMESPACE, fieldManager: 'flotilla' });
  const nodePort = await createNodePortService(name);
  await createCpuHpa({ name, maxReplicas: 8, scaleDownWindowSeconds: 10 });
  const specReplicas = async (): Promise<number> =>
    (await client.get<DeploymentObject>(DEPLOYMENTS, name, { namespace: NAMESPACE })).spec.replicas ?? 0;
  await until(
    'the deployment at its first replica',
    async () => (await specReplicas()) === 1 || undefined,
    60_000,
  );
  const targets = cluster.nodes.map((node) => ({
    host: node.address,
    port: nodePort,
    path: '/cgi-bin/burn',
  }));
  // A paced load (two clients, each with a pause between its requests): its cpu is shared by however many pods serve it.
  const load = startHttpLoad({
    target: roundRobin(targets),
    concurrency: 1,
    pauseMs: 150,
    timeoutMs: 20_000,
  });
  try {
    // The count the load asks for: unchanged for 20 s (10 syncs) with the load's metrics in the status.
    let steady = 0;
    let since = Date.now();
    await until(
      'a steady count under load',
      async () => {
        const hpa = await client.get<HpaObject>(HPAS, name, { namespace: NAMESPACE });
        const replicas = await specReplicas();
        const measured = (hpa.status?.currentMetrics?.[0]?.resource?.current.averageUtilization ?? 0) > 0;
        if (replicas !== steady || !measured) {
          steady = replicas;
          since = Date.now();
          return undefined;
        }
        return Date.now() - since >= 20_000 || undefined;
      },
      180_000,
    );

    let highest = steady;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        highest = Math.max(highest, await specReplicas());
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    await client.patch(
      DEPLOYMENTS,
      name,
      { spec: { template: { metadata: { annotations: { release: '2' } } } } },
      { namespace: NAMESPACE, patchType: 'merge' },
    );
    await until(
      'the rollout to finish',
      async () => {
        const current = await client.get<DeploymentObject>(DEPLOYMENTS, name, { namespace: NAMESPACE });
        const status = current.status;
        return (
          ((status?.observedGeneration ?? 0) >= (current.metadata.generation ?? 0) &&
            status?.updatedReplicas === current.spec.replicas &&
            status?.replicas === current.spec.replicas &&
            status?.availableReplicas === current.spec.replicas) ||
          undefined
        );
      },
      180_000,
    );
    // A few more syncs after the last surge pod went.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    watching = false;
    await watcher;
    // Neither a spike while surge pods ran nor a dip to undo afterwards.
    expect({ highest, after: await specReplicas() }).toEqual({ highest: steady, after: steady });
  } finally {
    const report = await load.stop();
    expect(report.succeeded).toBeGreaterThan(0);
  }
}, 480_000);
