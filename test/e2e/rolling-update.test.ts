// Issue 5's zero-downtime test on three real nodes (test/support/multi-node.ts): a 9-replica web
// Deployment behind a NodePort Service is updated while a client sends requests through every node's
// NodePort in turn, one node agent is SIGKILLed mid-rollout and started again, and `rollout undo`
// brings the first version back. Not one request may fail, and every state of the pods the informer
// sees keeps the strategy's promise: at most replicas + maxSurge pods, at least replicas −
// maxUnavailable Ready.
//
// The shape that makes zero failures possible (as manifests/web shows users): a readiness probe, so a
// new pod gets traffic only once it answers; a preStop sleep longer than it takes the endpoints
// controller and every agent to drop a deleted pod from its rules, so no request is sent to a pod
// after httpd got SIGTERM; minReadySeconds, so a pod that flaps is not counted yet.
// Before the rollout, a pod on every node reaches the Service by name through its node's cluster DNS.
// Last, a release whose image cannot be pulled: rollout status fails fast with the pod, container
// and reason, `rollout undo` brings the served version back, and the old pods serve throughout.
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolveResourceName, type Deployment, type KubeObject, type Pod, type Service } from '@flotilla/api';
import { createInformer, type Informer } from '@flotilla/client';
import { runFlotilla } from '../cli/flotilla-process';
import { until } from '../support/eventually';
import { roundRobin, startHttpLoad, type HttpLoadReport, type RunningHttpLoad } from '@flotilla/loadgen';
import { BASE_IMAGE, startTestCluster, type TestCluster } from '../support/multi-node';
import { RolloutWatch, rolloutBounds } from '../support/rollout-invariants';

type PodObject = Pod & KubeObject;

const NAMESPACE = 'default';
const NAME = 'web';
const REPLICAS = 9;
const STRATEGY = { maxSurge: '25%', maxUnavailable: '25%' };

function resource(name: string): NonNullable<ReturnType<typeof resolveResourceName>> {
  const type = resolveResourceName(name);
  if (!type) throw new Error(`resource type ${name} missing`);
  return type;
}

function deployment(version: string): Deployment & KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: NAME, namespace: NAMESPACE, labels: { app: NAME } },
    spec: {
      replicas: REPLICAS,
      minReadySeconds: 1,
      progressDeadlineSeconds: 300,
      selector: { matchLabels: { app: NAME } },
      strategy: { type: 'RollingUpdate', rollingUpdate: STRATEGY },
      template: {
        metadata: { labels: { app: NAME } },
        spec: {
          terminationGracePeriodSeconds: 20,
          containers: [
            {
              name: 'httpd',
              image: BASE_IMAGE,
              env: [{ name: 'VERSION', value: version }],
              command: [
                'sh',
                '-c',
                'mkdir -p /tmp/www && echo "$VERSION" > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www',
              ],
              ports: [{ name: 'http', containerPort: 8080 }],
              resources: { requests: { cpu: '20m', memory: '16Mi' }, limits: { memory: '32Mi' } },
              readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
              lifecycle: { preStop: { exec: { command: ['sleep', '8'] } } },
            },
          ],
        },
      },
    },
  } as Deployment & KubeObject;
}

let cluster: TestCluster;
let work: string;
let pods: Informer<PodObject> | undefined;

const flotilla = (...args: string[]): ReturnType<typeof runFlotilla> =>
  runFlotilla(['-n', NAMESPACE, ...args], { env: { KUBECONFIG: cluster.kubeconfigPath }, cwd: work });

beforeAll(async () => {
  cluster = await startTestCluster({
    name: 'e2e-rolling',
    nodes: [
      { name: 'roll-a', cpu: '1', memory: '768Mi' },
      { name: 'roll-b', cpu: '1', memory: '768Mi' },
      { name: 'roll-c', cpu: '1', memory: '768Mi' },
    ],
  });
  work = mkdtempSync(join(tmpdir(), 'flotilla-rolling-'));
}, 300_000);

afterAll(async () => {
  pods?.stop();
  await cluster?.close();
  if (work) rmSync(work, { recursive: true, force: true });
}, 120_000);

async function rolloutStatus(): Promise<void> {
  const status = await flotilla('rollout', 'status', `deploy/${NAME}`, '--timeout', '240s');
  if (status.code !== 0) {
    throw new Error(`rollout status exited ${status.code}: ${status.stdout}\n${status.stderr}`);
  }
}

/** How many of `count` fresh requests through the NodePorts answer each body. */
async function sample(
  targets: Parameters<typeof roundRobin>[0],
  count: number,
): Promise<Record<string, number>> {
  const load = startHttpLoad({ target: roundRobin(targets), concurrency: 3, maxRequests: count, pauseMs: 0 });
  while (load.report().total < count) await new Promise((resolve) => setTimeout(resolve, 20));
  const report = await load.stop();
  return { ...report.bodies, ...(report.failed > 0 ? { failed: report.failed } : {}) };
}

let nodePort: number | undefined;
/** Set by the first test: the rollout test needs the first version served everywhere. */
let servingV1 = false;

/** Waits until fresh requests through every node's NodePort all answer `version`; says what they did. */
async function everyNodePortAnswers(version: string): Promise<void> {
  let last: Record<string, number> = {};
  try {
    await until(
      `every NodePort answering ${version}`,
      async () => {
        last = await sample(nodePortTargets(), 9);
        return last[version] === 9;
      },
      60_000,
    );
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}; the last 9 requests: ${JSON.stringify(last)}`,
    );
  }
}

function nodePortTargets(): Array<{ host: string; port: number }> {
  if (nodePort === undefined) throw new Error('the Service has no node port (the first test failed)');
  const port = nodePort;
  return cluster.nodes.map((node) => ({ host: node.address, port }));
}

it('serves the first version on every node; pods find the Service by name through their node DNS', async () => {
  await cluster.client.create(resource('deployments'), deployment('v1'), { namespace: NAMESPACE });
  const created = await cluster.client.create<Service & KubeObject>(
    resource('services'),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: NAME, namespace: NAMESPACE },
      spec: {
        type: 'NodePort',
        selector: { app: NAME },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      },
    } as Service & KubeObject,
    { namespace: NAMESPACE },
  );
  nodePort = created.spec?.ports?.[0]?.nodePort;
  expect(nodePort).toEqual(expect.any(Number));
  await rolloutStatus();

  // From a pod on every node: the Service's FQDN, and its short name through the search path. Each
  // pod asks its own node's agent (its resolv.conf names its bridge gateway).
  const running = await cluster.client.list<PodObject>(resource('pods'), {
    namespace: NAMESPACE,
    labelSelector: `app=${NAME}`,
  });
  const onePerNode = new Map<string, string>();
  for (const pod of running.items) {
    const node = pod.spec?.nodeName;
    if (node !== undefined && !onePerNode.has(node)) onePerNode.set(node, pod.metadata.name ?? '');
  }
  expect(onePerNode.size).toBe(cluster.nodes.length);
  for (const pod of onePerNode.values()) {
    for (const url of [`http://${NAME}.${NAMESPACE}.svc.cluster.local/`, `http://${NAME}/`]) {
      // busybox 1.35's wget crashes with -T (Debian's static build): timeout bounds it instead.
      const fetched = await flotilla('exec', pod, '--', 'timeout', '10', 'wget', '-q', '-O', '-', url);
      expect({ pod, url, ...fetched }).toEqual({ pod, url, code: 0, stdout: 'v1\n', stderr: '' });
    }
  }

  // A headless Service over the same pods names every ready pod: the node's DNS follows Endpoints.
  await cluster.client.create<Service & KubeObject>(
    resource('services'),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `${NAME}-peers`, namespace: NAMESPACE },
      spec: { clusterIP: 'None', selector: { app: NAME }, ports: [{ name: 'http', port: 8080 }] },
    } as Service & KubeObject,
    { namespace: NAMESPACE },
  );
  const podIPs = running.items.map((pod) => pod.status?.podIP ?? '').sort();
  expect(podIPs.filter((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip))).toHaveLength(REPLICAS);
  const [asker] = onePerNode.values();
  let answered: string[] = [];
  await until(
    'the headless Service naming every pod',
    async () => {
      const lookup = await flotilla(
        'exec',
        asker ?? '',
        '--',
        'nslookup',
        `${NAME}-peers.${NAMESPACE}.svc.cluster.local`,
      );
      answered = [...lookup.stdout.matchAll(/^Address: (\d+\.\d+\.\d+\.\d+)$/gm)].map(
        (match) => match[1] ?? '',
      );
      return answered.sort().join(',') === podIPs.join(',');
    },
    30_000,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}; pods ${podIPs.join(',')}, DNS said ${answered.join(',')}`);
  });

  // Every node's rules lead to a v1 pod.
  await everyNodePortAnswers('v1');
  servingV1 = true;
}, 300_000);

it('rolls 9 replicas forward and back under load without a failed request, surviving an agent SIGKILL', async () => {
  if (!servingV1) throw new Error('the first version was not served on every node (see the first test)');
  const deployments = resource('deployments');
  const targets = nodePortTargets();
  const watch = new RolloutWatch(rolloutBounds({ replicas: REPLICAS, ...STRATEGY }));
  pods = createInformer<PodObject>({
    client: cluster.client,
    resource: resource('pods'),
    namespace: NAMESPACE,
    labelSelector: `app=${NAME}`,
  });
  // The initial list arrives as one add per pod: partial states that never existed in the cluster.
  let synced = false;
  const observe = (event: string) => (): void => {
    if (synced) watch.observe(pods?.list() ?? [], event);
  };
  pods.addEventHandler({ onAdd: observe('add'), onUpdate: observe('update'), onDelete: observe('delete') });
  pods.start();
  await pods.waitForSync();
  synced = true;
  watch.observe(pods.list(), 'before the update');

  const load: RunningHttpLoad = startHttpLoad({ target: roundRobin(targets), concurrency: 3, pauseMs: 20 });
  let report: HttpLoadReport;
  try {
    await cluster.client.patch(
      deployments,
      NAME,
      {
        spec: {
          template: { spec: { containers: [{ name: 'httpd', env: [{ name: 'VERSION', value: 'v2' }] }] } },
        },
      },
      { namespace: NAMESPACE, patchType: 'strategic' },
    );
    // Mid-rollout: some new pods exist, old ones are still there.
    await until(
      'the rollout under way',
      async () => {
        const current = await cluster.client.get<Deployment & KubeObject>(deployments, NAME, {
          namespace: NAMESPACE,
        });
        const updated = current.status?.updatedReplicas ?? 0;
        return updated >= 2 && updated < REPLICAS;
      },
      120_000,
    );
    const victim = cluster.nodes[1];
    if (!victim) throw new Error('the cluster has no second node');
    await victim.killAgent();
    await victim.restartAgent();
    await rolloutStatus();
    await everyNodePortAnswers('v2');

    const undo = await flotilla('rollout', 'undo', `deploy/${NAME}`);
    expect(undo).toMatchObject({ code: 0 });
    await rolloutStatus();
    await everyNodePortAnswers('v1');
  } finally {
    report = await load.stop();
  }
  // The whole report in the failure message: which outcome, through which node, when.
  expect({ failed: report.failed, failures: report.failures, outcomes: report.outcomes }).toEqual({
    failed: 0,
    failures: [],
    outcomes: { '200': report.total },
  });
  expect(report.bodies['v1']).toBeGreaterThan(0);
  expect(report.bodies['v2']).toBeGreaterThan(0);
  expect(watch.violations).toEqual([]);
  expect(watch.observations).toBeGreaterThan(REPLICAS * 2);
  expect(watch.peakActive).toBeGreaterThan(REPLICAS);
}, 900_000);

it('fails rollout status fast on an image that cannot be pulled, and rollout undo restores the served version', async () => {
  if (!servingV1) throw new Error('the first version was not served on every node (see the first test)');
  const load: RunningHttpLoad = startHttpLoad({
    target: roundRobin(nodePortTargets()),
    concurrency: 3,
    pauseMs: 20,
  });
  let report: HttpLoadReport;
  try {
    // No such image in the cluster registry: the new pods wait in ErrImagePull / ImagePullBackOff.
    expect(await flotilla('set', 'image', `deploy/${NAME}`, 'httpd=flotilla/missing:v3')).toMatchObject({
      code: 0,
    });
    // Fails fast (exit 5) with the pod, the container and the reason, well before its 240 s timeout.
    const status = await flotilla('rollout', 'status', `deploy/${NAME}`, '--timeout', '240s');
    expect(status.code).toBe(5);
    expect(status.stderr).toMatch(
      new RegExp(
        `^error: deployment "${NAME}" rollout failed: pod ${NAME}-[a-z0-9]+-[a-z0-9]+ container httpd is (ErrImagePull|ImagePullBackOff): .*flotilla/missing:v3`,
      ),
    );

    expect(await flotilla('rollout', 'undo', `deploy/${NAME}`)).toMatchObject({ code: 0 });
    await rolloutStatus();
    await everyNodePortAnswers('v1');
    const current = await cluster.client.get<Deployment & KubeObject>(resource('deployments'), NAME, {
      namespace: NAMESPACE,
    });
    expect(current.spec.template.spec.containers[0]?.image).toBe(BASE_IMAGE);
  } finally {
    report = await load.stop();
  }
  // The old pods kept serving while the new ones could not start: maxUnavailable is all it took away.
  expect({ failed: report.failed, failures: report.failures }).toEqual({ failed: 0, failures: [] });
  expect(report.bodies['v1']).toBeGreaterThan(0);
}, 600_000);
