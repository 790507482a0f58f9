// Metrics on real nodes: node agents in their own node hosts read pod and node usage from cgroups and
// report it every 5 s; a pod that spins in a busy loop under a CPU limit shows CPU near that limit in
// `flotilla top pods` and `kubectl top pods`, an idle pod shows almost none, and `top nodes` lists
// every node with its usage as a share of its allocatable.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Quantity } from '@flotilla/api';
import { requireFreshBuild, runFlotilla, type FlotillaResult } from '../cli/flotilla-process';
import { until } from '../support/eventually';
import { BASE_IMAGE, startTestCluster, type TestCluster } from '../support/multi-node';

const NODES = [
  { name: 'busy', cpu: '1', memory: '512Mi' },
  { name: 'calm', cpu: '1', memory: '512Mi' },
] as const;
const NAMESPACE = `top-${randomBytes(3).toString('hex')}`;
const LIMIT_MILLICORES = 300;

let cluster: TestCluster;

beforeAll(async () => {
  requireFreshBuild();
  cluster = await startTestCluster({ name: 'e2e-metrics', nodes: NODES });
  const created = await cluster.controlPlane.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
  });
  expect(created.status).toBe(201);
}, 180_000);

afterAll(async () => {
  await cluster?.close();
}, 120_000);

function flotilla(...args: string[]): Promise<FlotillaResult> {
  return runFlotilla(args, { env: { KUBECONFIG: cluster.kubeconfigPath }, cwd: cluster.controlPlane.dir });
}

function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/kubectl',
      ['--kubeconfig', cluster.kubeconfigPath, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

async function createPod(options: { name: string; command: string[]; nodeName: string; cpu: string }) {
  const result = await cluster.controlPlane.request('POST', `/api/v1/namespaces/${NAMESPACE}/pods`, {
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: options.name, labels: { app: options.name } },
      spec: {
        nodeName: options.nodeName,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'main',
            image: BASE_IMAGE,
            imagePullPolicy: 'IfNotPresent',
            command: options.command,
            resources: {
              requests: { cpu: options.cpu, memory: '32Mi' },
              limits: { cpu: options.cpu, memory: '32Mi' },
            },
          },
        ],
      },
    },
  });
  expect(result.status).toBe(201);
}

/** Rows of a `top` table, split into cells, keyed by their first cell. */
function rows(stdout: string): Map<string, string[]> {
  const lines = stdout.trim().split('\n').slice(1);
  return new Map(
    lines.map((line) => {
      const cells = line.trim().split(/\s+/);
      return [cells[0] ?? '', cells];
    }),
  );
}

const millicores = (cell: string | undefined): number => Number(Quantity.parse(cell ?? '0').milliValue());

describe('top on a real cluster', () => {
  it('shows a busy loop near its CPU limit and an idle pod near zero', async () => {
    await createPod({
      name: 'burn',
      command: ['sh', '-c', 'while :; do :; done'],
      nodeName: 'busy',
      cpu: `${LIMIT_MILLICORES}m`,
    });
    await createPod({ name: 'idle', command: ['sleep', '3600'], nodeName: 'calm', cpu: '100m' });
    // The first readings can cover a window in which the loop had only just started; wait for a
    // reading that shows it spinning (the machine is shared, so allow for some stolen time).
    const seen: number[] = [];
    const top = await until(
      'flotilla top pods to show the busy loop near its limit',
      async () => {
        const result = await flotilla('top', 'pods', '-n', NAMESPACE);
        if (result.code !== 0) return undefined;
        const table = rows(result.stdout);
        const burn = millicores(table.get('burn')?.[1]);
        if (table.has('burn')) seen.push(burn);
        return table.has('idle') && burn >= LIMIT_MILLICORES * 0.6 ? table : undefined;
      },
      90_000,
    );
    // The kernel's quota caps the loop: no reading exceeds the limit by more than rounding and one period.
    expect(Math.max(...seen)).toBeLessThanOrEqual(LIMIT_MILLICORES * 1.15);
    expect(millicores(top.get('idle')?.[1])).toBeLessThan(30);
    // A shell loop's working set is under 1Mi (top prints 0Mi): read the exact bytes from the API.
    const api = await cluster.controlPlane.request(
      'GET',
      `/apis/metrics.k8s.io/v1beta1/namespaces/${NAMESPACE}/pods/burn`,
    );
    const metrics = api.json<{ window: string; containers: Array<{ usage: { memory: string } }> }>();
    const memory = Number(Quantity.parse(metrics.containers[0]?.usage.memory ?? '0').value());
    expect(memory).toBeGreaterThan(0);
    expect(memory).toBeLessThanOrEqual(32 * 1024 * 1024);
    expect(metrics.window).toMatch(/^\d+(\.\d+)?s$/);

    const theirs = await kubectl('top', 'pods', '-n', NAMESPACE, '-l', 'app=burn');
    expect(theirs.code).toBe(0);
    expect(millicores(rows(theirs.stdout).get('burn')?.[1])).toBeGreaterThan(LIMIT_MILLICORES * 0.3);
  }, 150_000);

  it('lists every node with its usage and its share of allocatable', async () => {
    const table = await until('flotilla top nodes to show both nodes', async () => {
      const result = await flotilla('top', 'nodes', '--sort-by', 'cpu');
      if (result.code !== 0) return undefined;
      const parsed = rows(result.stdout);
      return NODES.every((node) => parsed.get(node.name)?.[1]?.endsWith('m')) ? result.stdout : undefined;
    });
    const parsed = rows(table);
    // The node's own cgroup holds the loop: the busy node uses at least most of the loop's share.
    expect(millicores(parsed.get('busy')?.[1])).toBeGreaterThan(LIMIT_MILLICORES * 0.5);
    expect(parsed.get('busy')?.[2]).toMatch(/^\d+%$/);
    expect(parsed.get('busy')?.[4]).toMatch(/^\d+%$/);
    expect(table.trim().split('\n')[1]?.startsWith('busy')).toBe(true);
  }, 60_000);
});
