// `flotilla autoscale`, `get hpa`, `describe hpa` and `apply` of an autoscaled Deployment through the
// real executable (bin/flotilla over dist/), against a real control plane with the workload and HPA
// controllers in-process. The test plays the nodes (replicaset-node.fixture.ts) and the metrics
// pipeline (hpa-metrics.fixture.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveResourceName, type Deployment, type KubeObject, type ResourceType } from '@flotilla/api';
import type { RestClient } from '@flotilla/client';
import { requireFreshBuild, runFlotilla } from '../cli/flotilla-process';
import type { TestControlPlane } from '../support/cluster';
import { until } from '../support/eventually';
import { startWorkloadTestBed, type WorkloadTestBed } from './workload-controllers.fixture';

const namespace = 'hpa-cli';

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}
const DEPLOYMENTS = type('deployments');

let cp: TestControlPlane;
let client: RestClient;
let bed: WorkloadTestBed | undefined;
let workdir: string;
const load = new Map<string, number>();

beforeAll(async () => {
  requireFreshBuild();
  workdir = mkdtempSync(join(tmpdir(), 'flotilla-hpa-cli-'));
  bed = await startWorkloadTestBed({
    name: 'hpa-cli',
    namespace,
    nodes: ['node-a', 'node-b'],
    autoscaling: { load },
  });
  ({ cp, client } = bed);
});

afterAll(async () => {
  await bed?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

const flotilla = (...args: string[]) =>
  runFlotilla(['-n', namespace, ...args], { env: { KUBECONFIG: cp.kubeconfigPath }, cwd: workdir });

/** The sample web service's manifest as a user keeps it: no replicas once an HPA owns the count. */
function manifestFile(replicas: number | undefined, release: string): string {
  const path = join(workdir, `web-${release}.yaml`);
  writeFileSync(
    path,
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: web',
      '  annotations:',
      `    release: "${release}"`,
      'spec:',
      ...(replicas !== undefined ? [`  replicas: ${replicas}`] : []),
      '  selector:',
      '    matchLabels: {app: web}',
      '  template:',
      '    metadata:',
      '      labels: {app: web}',
      '    spec:',
      '      containers:',
      '      - name: web',
      '        image: web:1',
      '        resources:',
      '          requests: {cpu: 100m}',
      '',
    ].join('\n'),
  );
  return path;
}

const replicasOf = async (): Promise<number | undefined> =>
  (await client.get<Deployment & KubeObject>(DEPLOYMENTS, 'web', { namespace })).spec.replicas;

test('autoscale a deployment, watch it scale under load, re-apply its manifest, and read the decisions', async () => {
  const first = await flotilla('apply', '-f', manifestFile(2, 'one'));
  expect(first).toMatchObject({ code: 0 });

  const bad = await flotilla('autoscale', 'deploy/web', '--min', '5', '--max', '3');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--min (5) cannot be more than --max (3)');
  const missing = await flotilla('autoscale', 'deploy/nothing', '--max', '3');
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('deployments "nothing" not found in namespace hpa-cli: create it first');

  load.set('web', 300);
  const created = await flotilla(
    'autoscale',
    'deploy/web',
    '--min',
    '2',
    '--max',
    '6',
    '--cpu-percent',
    '50',
  );
  expect(created).toMatchObject({ code: 0, stdout: 'horizontalpodautoscaler.autoscaling/web autoscaled\n' });

  // 300m over 2 pods of 100m = 150 % against 50 % → 6 (= max).
  await until('web at 6 replicas', async () => (await replicasOf()) === 6 || undefined);
  const table = await until('get hpa showing 6 replicas at 50 %', async () => {
    const result = await flotilla('get', 'hpa');
    return result.stdout.includes('cpu: 50%/50%') && / 6 +\S+\n$/.test(result.stdout)
      ? result.stdout
      : undefined;
  });
  const [header, row] = table.trimEnd().split('\n');
  expect(header?.split(/\s{2,}/)).toEqual([
    'NAME',
    'REFERENCE',
    'TARGETS',
    'MINPODS',
    'MAXPODS',
    'REPLICAS',
    'AGE',
  ]);
  expect(row?.split(/\s{2,}/).slice(0, 6)).toEqual(['web', 'Deployment/web', 'cpu: 50%/50%', '2', '6', '6']);

  // flotilla apply of the manifest without replicas: the autoscaler's count stays.
  const reapplied = await flotilla('apply', '-f', manifestFile(undefined, 'two'));
  expect(reapplied).toMatchObject({ code: 0 });
  expect(await replicasOf()).toBe(6);

  const described = await flotilla('describe', 'hpa', 'web');
  expect(described.code).toBe(0);
  expect(described.stdout).toMatch(/^Reference: +Deployment\/web$/m);
  expect(described.stdout).toMatch(
    /^ {2}resource cpu on pods {2}\(as a percentage of request\): +50% \(50m\) \/ 50%$/m,
  );
  expect(described.stdout).toMatch(/^Min replicas: +2$/m);
  expect(described.stdout).toMatch(/^Max replicas: +6$/m);
  expect(described.stdout).toMatch(/^Deployment pods: +6 current \/ 6 desired$/m);
  expect(described.stdout).toMatch(
    /^ {2}ScalingActive +True +ValidMetricFound +the HPA was able to successfully calculate/m,
  );
  // Usually 2 → 6 in one step (ceil(2 × 3) = 6, within max(+4, +100 %)); when a sync sees a pod not yet
  // Ready, Kubernetes' rule counts it at 0 % and the way to 6 takes a step more (2 → 3 → 6).
  expect(described.stdout).toMatch(
    /SuccessfulRescale .*horizontal-pod-autoscaler +New size: 6; reason: cpu resource utilization \(percentage of request\) above target \(cpu: \d+% of request, target 50%; was [2-5]\)/,
  );
});
