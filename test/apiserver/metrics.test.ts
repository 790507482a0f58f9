// metrics.k8s.io end to end: a node agent (the real NodeConnection) reports usage over the real gRPC
// stream, the apiserver keeps the samples in the suite's Redis, and the metrics API, kubectl top and
// flotilla top read them back. Behind the agent sits a NodePods of this file whose usage grows at
// known rates (the other side of the seam; real cgroups are read in the e2e test), so every figure
// served here is exact.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Pod } from '@flotilla/api';
import { startApiServer } from '@flotilla/apiserver';
import { freePort } from '@flotilla/cluster';
import { NodeConnection, NodePodsError, type NodePods, type NodeUsageSample } from '@flotilla/node-agent';
import { RegisterRequest } from '@flotilla/proto';
import pino from 'pino';
import { requireFreshBuild, runFlotilla } from '../cli/flotilla-process';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { requireTestEnv, until } from '../support/eventually';

const KUBECTL = '/usr/bin/kubectl';
const runId = randomBytes(4).toString('hex');
const namespace = `metrics-${runId}`;
const nodeName = `m-${runId}`;
const MiB = 1024 * 1024;

/** Pods of the fake node: CPU in nanocores (a constant rate) and a constant working set. */
const USAGE: Record<string, { cpuNanocores: number; memoryBytes: number }> = {
  'web-1': { cpuNanocores: 250_000_000, memoryBytes: 64 * MiB },
  'web-2': { cpuNanocores: 500_000_000, memoryBytes: 32 * MiB },
  db: { cpuNanocores: 100_000_000, memoryBytes: 128 * MiB },
};
const NODE_USAGE = { cpuNanocores: 1_500_000_000, memoryBytes: 512 * MiB };

/** Reports cumulative CPU that grows at the rates above, measured on the sample's own clock. */
class MeteredNodePods implements NodePods {
  private readonly startedAt = Date.now();
  readonly uids = new Map<string, string>();

  replaceDesired(): void {}
  upsertDesired(): void {}
  removeDesired(): void {}
  onStatus(): () => void {
    return () => undefined;
  }
  currentStatuses(): [] {
    return [];
  }
  usage(): Promise<NodeUsageSample> {
    const now = Date.now();
    const elapsedMs = BigInt(now - this.startedAt);
    const cumulative = (nanocores: number): bigint => (BigInt(nanocores) * elapsedMs) / 1000n;
    return Promise.resolve({
      time: new Date(now).toISOString(),
      nodeCpuUsageNanos: cumulative(NODE_USAGE.cpuNanocores),
      nodeMemoryWorkingSetBytes: NODE_USAGE.memoryBytes,
      pods: [...this.uids].map(([name, uid]) => {
        const usage = USAGE[name] ?? { cpuNanocores: 0, memoryBytes: 0 };
        return {
          namespace,
          name,
          uid,
          containers: [
            {
              name: 'main',
              cpuUsageNanos: cumulative(usage.cpuNanocores),
              memoryWorkingSetBytes: usage.memoryBytes,
            },
          ],
        };
      }),
    });
  }
  logs(): Promise<never> {
    return Promise.reject(new NodePodsError('NotFound', 'this test node runs no containers'));
  }
  exec(): Promise<never> {
    return Promise.reject(new NodePodsError('NotFound', 'this test node runs no containers'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

let plane: TestControlPlane;
let connection: NodeConnection | undefined;
const pods = new MeteredNodePods();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      ['--kubeconfig', plane.kubeconfigPath, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

function flotilla(...args: string[]): Promise<Run> {
  return runFlotilla(args, { env: { KUBECONFIG: plane.kubeconfigPath }, cwd: plane.dir });
}

async function getJson<T>(path: string): Promise<{ status: number; body: T }> {
  const result = await plane.request('GET', path);
  return { status: result.status, body: result.json<T>() };
}

interface MetricsList<T> {
  kind: string;
  apiVersion: string;
  items: T[];
}

interface PodMetricsView {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  containers: Array<{ name: string; usage: { cpu: string; memory: string } }>;
}

const podsPath = `/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods`;

async function createPod(name: string, labels: Record<string, string>): Promise<Pod> {
  const result = await plane.request('POST', `/api/v1/namespaces/${namespace}/pods`, {
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels },
      spec: { containers: [{ name: 'main', image: 'busybox' }] },
    },
  });
  if (result.status !== 201) throw new Error(`creating pod ${name}: ${result.status} ${result.text}`);
  return result.json<Pod>();
}

function startAgent(): NodeConnection {
  const certificate = plane.nodeCertificate(nodeName);
  const agent = new NodeConnection({
    apiserver: `127.0.0.1:${plane.grpcPort ?? 0}`,
    tls: { caFile: plane.caFile, certFile: certificate.certFile, keyFile: certificate.keyFile },
    registration: () =>
      Promise.resolve(
        RegisterRequest.fromPartial({
          nodeName,
          addresses: [{ type: 'InternalIP', address: '127.0.0.9' }],
          capacity: { cpu: '2', memory: '4Gi', pods: '110' },
          allocatable: { cpu: '1900m', memory: '3840Mi', pods: '110' },
          info: { operatingSystem: 'linux', architecture: 'amd64', agentVersion: '0.1.0' },
          agentEndpoint: '127.0.0.9:10250',
          labels: { 'metrics-test': runId },
        }),
      ),
    logger: pino({ level: process.env['FLOTILLA_TEST_LOG'] ?? 'silent' }),
    metricsIntervalMs: 500,
    backoff: { initialMs: 100, maxMs: 1000 },
  });
  return agent;
}

beforeAll(async () => {
  requireTestEnv('FLOTILLA_TEST_REDIS');
  plane = await startTestControlPlane('metrics', {
    nodeService: true,
    heartbeatIntervalSeconds: 1,
    metricsTtlMs: 3000,
  });
  await plane.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  });
  for (const [name, labels] of [
    ['web-1', { app: 'web' }],
    ['web-2', { app: 'web' }],
    ['db', { app: 'db' }],
    ['quiet', { app: 'web' }],
  ] as const) {
    const pod = await createPod(name, labels);
    // "quiet" exists but its node never reports it: it has no metrics.
    if (name !== 'quiet') pods.uids.set(name, pod.metadata.uid ?? '');
  }
  connection = startAgent();
  await connection.register();
  connection.start(pods);
});

afterAll(async () => {
  await connection?.close();
  await plane?.stop();
});

describe('metrics.k8s.io', () => {
  it('is discovered as kubectl looks for it', async () => {
    const groups = await getJson<{
      groups: Array<{ name: string; preferredVersion: { groupVersion: string } }>;
    }>('/apis');
    expect(groups.body.groups).toContainEqual(
      expect.objectContaining({
        name: 'metrics.k8s.io',
        preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' },
      }),
    );
    const resources = await getJson<{ resources: Array<{ name: string; kind: string; verbs: string[] }> }>(
      '/apis/metrics.k8s.io/v1beta1',
    );
    expect(resources.body.resources).toEqual([
      expect.objectContaining({
        name: 'nodes',
        kind: 'NodeMetrics',
        namespaced: false,
        verbs: ['get', 'list'],
      }),
      expect.objectContaining({ name: 'pods', kind: 'PodMetrics', namespaced: true, verbs: ['get', 'list'] }),
    ]);
  });

  it('serves PodMetrics as rates over the window between two samples', async () => {
    const list = await until('metrics of the three reporting pods', async () => {
      const { body } = await getJson<MetricsList<PodMetricsView>>(podsPath);
      return body.items.length === 3 && body;
    });
    expect(list.kind).toBe('PodMetricsList');
    expect(list.apiVersion).toBe('metrics.k8s.io/v1beta1');
    const byName = new Map(list.items.map((item) => [item.metadata.name, item]));
    expect(byName.get('web-1')).toMatchObject({
      metadata: { name: 'web-1', namespace, labels: { app: 'web' } },
      containers: [{ name: 'main', usage: { cpu: '250m', memory: '64Mi' } }],
    });
    expect(byName.get('web-2')?.containers[0]?.usage).toEqual({ cpu: '500m', memory: '32Mi' });
    expect(byName.get('db')?.containers[0]?.usage).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(byName.has('quiet')).toBe(false);
    const web1 = byName.get('web-1');
    expect(Date.parse(web1?.timestamp ?? '')).not.toBeNaN();
    expect(web1?.window).toMatch(/^\d+(\.\d+)?m?s$/);
  });

  it('selects pods by label and by metadata.name, across namespaces too', async () => {
    const web = await getJson<MetricsList<PodMetricsView>>(`${podsPath}?labelSelector=app%3Dweb`);
    expect(web.body.items.map((item) => item.metadata.name).sort()).toEqual(['web-1', 'web-2']);
    const one = await getJson<MetricsList<PodMetricsView>>(`${podsPath}?fieldSelector=metadata.name%3Ddb`);
    expect(one.body.items.map((item) => item.metadata.name)).toEqual(['db']);
    const all = await getJson<MetricsList<PodMetricsView>>(
      '/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app%3Ddb',
    );
    expect(all.body.items.map((item) => `${item.metadata.namespace}/${item.metadata.name}`)).toContain(
      `${namespace}/db`,
    );
    const bad = await plane.request('GET', `${podsPath}?labelSelector=app%3D%3D%3D`);
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest' });
  });

  it('gets one PodMetrics, and answers 404 with a Status for a pod without metrics or without a pod', async () => {
    const one = await getJson<PodMetricsView>(`${podsPath}/web-2`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ kind: 'PodMetrics', metadata: { name: 'web-2' } });
    for (const name of ['quiet', 'nope']) {
      const missing = await plane.request('GET', `${podsPath}/${name}`);
      expect(missing.status).toBe(404);
      expect(missing.json()).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
        message: `pods.metrics.k8s.io "${name}" not found`,
      });
    }
  });

  it('serves NodeMetrics for the reporting node, by list, label and name', async () => {
    const path = `/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=metrics-test%3D${runId}`;
    const list = await until('node metrics', async () => {
      const { body } = await getJson<MetricsList<{ metadata: { name: string }; usage: unknown }>>(path);
      return body.items.length === 1 && body;
    });
    expect(list.kind).toBe('NodeMetricsList');
    expect(list.items[0]).toMatchObject({
      metadata: { name: nodeName },
      usage: { cpu: '1500m', memory: '512Mi' },
    });
    const one = await getJson<{ kind: string; usage: unknown }>(
      `/apis/metrics.k8s.io/v1beta1/nodes/${nodeName}`,
    );
    expect(one.body).toMatchObject({ kind: 'NodeMetrics', usage: { cpu: '1500m', memory: '512Mi' } });
    expect((await plane.request('GET', '/apis/metrics.k8s.io/v1beta1/nodes/nope')).status).toBe(404);
  });

  it('works with kubectl top pods and top nodes', async () => {
    const top = await kubectl('top', 'pods', '-n', namespace, '-l', 'app=web', '--sort-by', 'cpu');
    expect(top.stderr).toBe('');
    expect(top.code).toBe(0);
    const lines = top.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    expect(lines.slice(1).map((line) => line.trim().split(/\s+/))).toEqual([
      ['web-2', '500m', '32Mi'],
      ['web-1', '250m', '64Mi'],
    ]);
    const containers = await kubectl('top', 'pods', '-n', namespace, 'db', '--containers');
    expect(containers.code).toBe(0);
    expect(containers.stdout).toMatch(/db\s+main\s+100m\s+128Mi/);
    const nodes = await kubectl('top', 'nodes', '-l', `metrics-test=${runId}`);
    expect(nodes.code).toBe(0);
    // 1500m of allocatable 1900m is 78%; 512Mi of 3840Mi is 13%.
    expect(nodes.stdout).toMatch(new RegExp(`${nodeName}\\s+1500m\\s+78%\\s+512Mi\\s+13%`));
  });

  it('works with flotilla top pods and top nodes', async () => {
    requireFreshBuild();
    const top = await flotilla('top', 'pods', '-n', namespace, '--sort-by', 'memory');
    expect(top.stderr).toBe('');
    expect(top.code).toBe(0);
    expect(
      top.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/)),
    ).toEqual([
      ['NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      ['db', '100m', '128Mi'],
      ['web-1', '250m', '64Mi'],
      ['web-2', '500m', '32Mi'],
    ]);
    const all = await flotilla('top', 'pods', '-A', '-l', 'app=db', '--containers');
    expect(all.stdout).toMatch(new RegExp(`${namespace}\\s+db\\s+main\\s+100m\\s+128Mi`));
    const nodes = await flotilla('top', 'nodes', nodeName);
    expect(nodes.stdout).toMatch(new RegExp(`${nodeName}\\s+1500m\\s+78%\\s+512Mi\\s+13%`));
    // The same columns as kubectl's own table (1.32 says CPU(%) where older versions said CPU%).
    const theirs = await kubectl('top', 'nodes', nodeName);
    const header = (text: string): string[] => (text.split('\n')[0] ?? '').trim().split(/\s+/);
    expect(header(nodes.stdout)).toEqual(header(theirs.stdout));
    expect(header(nodes.stdout)).toEqual(['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']);
    const quiet = await flotilla('top', 'pods', '-n', namespace, 'quiet');
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toContain('metrics not available yet: the node agents report every 5s');
  });

  it('keeps serving from Redis across an apiserver restart, and lets a silent node expire after the TTL', async () => {
    await connection?.close();
    connection = undefined;
    // A new apiserver process has no memory of the samples: what it serves comes from Redis.
    await plane.restartApiServer();
    const served = await getJson<MetricsList<PodMetricsView>>(podsPath);
    expect(served.body.items.map((item) => item.metadata.name).sort()).toEqual(['db', 'web-1', 'web-2']);
    await until('the metrics of the silent node to expire', async () => {
      const { body } = await getJson<MetricsList<PodMetricsView>>(podsPath);
      return body.items.length === 0;
    });
    expect((await plane.request('GET', `/apis/metrics.k8s.io/v1beta1/nodes/${nodeName}`)).status).toBe(404);
    const top = await kubectl('top', 'pods', '-n', namespace);
    expect(top.code).not.toBe(0);
    const ours = await flotilla('top', 'pods', '-n', namespace);
    expect(ours.code).toBe(1);
    expect(ours.stderr).toContain('metrics not available yet: the node agents report every 5s');
  });

  it('refuses to start with a --redis-url nobody answers, saying what to fix', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    await expect(
      startApiServer({
        etcdServers: [plane.etcdUrl],
        bindAddress: '127.0.0.1',
        port: 0,
        tokenAuthFile: join(plane.dir, 'tokens.csv'),
        logLevel: 'silent',
        metrics: { redisUrl: url },
      }),
    ).rejects.toThrow(new RegExp(`cannot reach Redis at ${url} for metrics .*: start it or fix --redis-url`));
  });
});
