// scripts/ci-deploy.sh end to end on a real two-node cluster (test/support/multi-node.ts): a good
// release is built with our builder, pushed to the cluster registry, applied and rolled out (pods
// serving, readiness by httpGet); a broken release fails its rollout fast, is undone, and the script
// exits with rollout status' code while the previous release keeps serving.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveResourceName, type Deployment, type KubeObject, type Pod } from '@flotilla/api';
import { startTestCluster, type TestCluster } from '../support/multi-node';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'ci-deploy.sh');
const NAMESPACE = 'default';

let cluster: TestCluster;
let work: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: 240_000, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  cluster = await startTestCluster({
    name: 'e2e-ci-deploy',
    nodes: [
      { name: 'ci-a', cpu: '1', memory: '512Mi' },
      { name: 'ci-b', cpu: '1', memory: '512Mi' },
    ],
  });
  work = mkdtempSync(join(tmpdir(), 'flotilla-ci-deploy-'));
  const loaded = await run(
    'bash',
    [join(ROOT, 'scripts', 'base-image.sh'), '--state-dir', join(work, 'images')],
    {},
  );
  if (loaded.code !== 0) throw new Error(`base-image.sh failed: ${loaded.stderr}`);
  mkdirSync(join(work, 'deploy'));
  writeFileSync(
    join(work, 'deploy', 'site.yaml'),
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
spec:
  replicas: 2
  progressDeadlineSeconds: 120
  selector:
    matchLabels: { app: site }
  template:
    metadata:
      labels: { app: site }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: web
          image: __IMAGE__
          ports: [{ name: http, containerPort: 8080 }]
          resources:
            requests: { cpu: 20m, memory: 16Mi }
            limits: { memory: 32Mi }
          readinessProbe:
            httpGet: { path: /, port: http }
            periodSeconds: 1
`,
  );
}, 300_000);

afterAll(async () => {
  await cluster?.close();
  if (work) rmSync(work, { recursive: true, force: true });
}, 120_000);

function release(tag: string, command: string): Promise<Run> {
  const context = join(work, `context-${tag}`);
  mkdirSync(join(context, 'www'), { recursive: true });
  writeFileSync(join(context, 'www', 'index.html'), `release ${tag}\n`);
  writeFileSync(
    join(context, 'Containerfile'),
    `FROM flotilla/busybox:latest\nCOPY www /var/www\nCMD ${command}\n`,
  );
  return run(
    SCRIPT,
    [
      '--image',
      `${cluster.registry}/site:${tag}`,
      '--context',
      context,
      '--manifests',
      join(work, 'deploy'),
      '--deployment',
      'site',
      '--timeout',
      '150s',
      '--insecure-registry',
      cluster.registry,
    ],
    {
      KUBECONFIG: cluster.kubeconfigPath,
      FLOTILLA_STATE_DIR: join(work, 'images'),
      // No `flotilla up` cluster of the user's may lend its registry or kubeconfig here.
      FLOTILLA_HOME: join(work, 'home'),
    },
  );
}

async function siteState(): Promise<{ image: string | undefined; running: string[] }> {
  const deployments = resolveResourceName('deployments');
  const pods = resolveResourceName('pods');
  if (!deployments || !pods) throw new Error('resource types missing');
  const deployment = await cluster.client.get<Deployment & KubeObject>(deployments, 'site', {
    namespace: NAMESPACE,
  });
  const list = await cluster.client.list<Pod & KubeObject>(pods, {
    namespace: NAMESPACE,
    labelSelector: 'app=site',
  });
  return {
    image: deployment.spec.template.spec.containers[0]?.image,
    running: list.items
      .filter((pod) => pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp)
      .map((pod) => pod.spec?.containers[0]?.image ?? ''),
  };
}

describe('scripts/ci-deploy.sh', () => {
  it('deploys a good release, then undoes a broken one and fails with its reason', async () => {
    const good = await release('v1', '["httpd", "-f", "-p", "8080", "-h", "/var/www"]');
    expect(good.stderr).not.toMatch(/error/i);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('deployment "site" successfully rolled out');
    const afterGood = await siteState();
    expect(afterGood.image).toBe(`${cluster.registry}/site:v1`);
    expect(afterGood.running).toEqual([`${cluster.registry}/site:v1`, `${cluster.registry}/site:v1`]);

    const bad = await release('v2', '["sh", "-c", "echo broken release >&2; exit 1"]');
    expect(bad.code).toBe(5);
    expect(bad.stderr).toMatch(/CrashLoopBackOff|Error/);
    expect(bad.stdout).toContain('rolling deployment site back');
    expect(bad.stdout).toContain('rolled back; the release of');
    const afterBad = await siteState();
    expect(afterBad.image).toBe(`${cluster.registry}/site:v1`);
    expect(afterBad.running.every((image) => image === `${cluster.registry}/site:v1`)).toBe(true);
    expect(afterBad.running.length).toBeGreaterThanOrEqual(2);
  }, 400_000);
});
