import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveResourceName, type KubeObject, type ResourceType } from '@flotilla/api';
import { createClient, type RestClient } from '@flotilla/client';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { eventually } from '../support/eventually';
import { requireFreshBuild, runFlotilla, startFlotilla } from './flotilla-process';

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}

const DEPLOYMENTS = type('deploy');

let cp: TestControlPlane;
let client: RestClient;
let workdir: string;

beforeAll(async () => {
  requireFreshBuild();
  cp = await startTestControlPlane('rollout');
  client = createClient({ kubeconfig: cp.kubeconfigPath, env: {} });
  workdir = mkdtempSync(join(tmpdir(), 'flotilla-rollout-'));
});

afterAll(async () => {
  client?.close();
  await cp?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

const options = () => ({ env: { KUBECONFIG: cp.kubeconfigPath }, cwd: workdir });

async function createDeployment(name: string): Promise<KubeObject> {
  return client.create(DEPLOYMENTS, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
  });
}

// No controller runs here: the test writes the status a deployment controller would report.
async function reportStatus(name: string, status: Record<string, unknown>): Promise<void> {
  const current = await client.get(DEPLOYMENTS, name);
  await client.updateStatus(DEPLOYMENTS, {
    ...current,
    status: { observedGeneration: current.metadata.generation, ...status },
  });
}

describe('flotilla rollout', () => {
  it('status prints progress and exits 0 once every updated replica is available', async () => {
    await createDeployment('web');
    await reportStatus('web', { replicas: 2, updatedReplicas: 2, availableReplicas: 1 });
    const watching = startFlotilla(['rollout', 'status', 'deployment/web', '--timeout=30s'], options());
    await eventually(
      () => watching.stdout().includes('1 of 2 updated replicas are available'),
      'the progress line',
    );
    await reportStatus('web', { replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
    expect(await watching.done).toEqual({
      code: 0,
      stdout:
        'Waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available...\n' +
        'deployment "web" successfully rolled out\n',
      stderr: '',
    });
  });

  it('status exits 4 when the progress deadline is exceeded', async () => {
    await createDeployment('stuck');
    await reportStatus('stuck', {
      replicas: 2,
      updatedReplicas: 1,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    });
    const result = await runFlotilla(['rollout', 'status', 'deploy', 'stuck'], options());
    expect(result.code).toBe(4);
    expect(result.stderr).toBe('error: deployment "stuck" exceeded its progress deadline\n');
  });

  it('restart stamps the pod template so the deployment rolls out again', async () => {
    const before = await createDeployment('restarted');
    const result = await runFlotilla(['rollout', 'restart', 'deployment/restarted'], options());
    expect(result).toEqual({ code: 0, stdout: 'deployment.apps/restarted restarted\n', stderr: '' });
    const after = await client.get(DEPLOYMENTS, 'restarted');
    const template = (after['spec'] as { template: { metadata: { annotations?: Record<string, string> } } })
      .template;
    expect(template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation ?? 0);
  });

  it('refuses other kinds as a usage error', async () => {
    const result = await runFlotilla(['rollout', 'status', 'svc/web'], options());
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: rollout works on deployments, not services\n');
  });
});

describe('flotilla scale', () => {
  it('sets replicas through the scale subresource, guarded by --current-replicas', async () => {
    await createDeployment('scaled');
    expect(await runFlotilla(['scale', 'deployment/scaled', '--replicas=5'], options())).toEqual({
      code: 0,
      stdout: 'deployment.apps/scaled scaled\n',
      stderr: '',
    });
    const scaled = await client.get(DEPLOYMENTS, 'scaled');
    expect((scaled['spec'] as { replicas: number }).replicas).toBe(5);

    const guarded = await runFlotilla(
      ['scale', 'deploy', 'scaled', '--replicas=1', '--current-replicas=2'],
      options(),
    );
    expect(guarded.code).toBe(1);
    expect(guarded.stderr).toBe('error: deployment.apps/scaled has 5 replicas, not 2: not scaled\n');
  });

  it('refuses kinds without a scale subresource and bad counts as usage errors', async () => {
    expect((await runFlotilla(['scale', 'svc/web', '--replicas=2'], options())).code).toBe(2);
    const negative = await runFlotilla(['scale', 'deploy/scaled', '--replicas=-1'], options());
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('"-1" is not a replica count');
  });
});
