// kubectl, the real client, against our apiserver: what users and CI scripts run every day.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';

const KUBECTL = '/usr/bin/kubectl';
const MANIFEST = join(__dirname, '..', '..', 'manifests', 'web', 'web.yaml');

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane('kubectl');
});
afterAll(() => cp?.stop());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      ['--kubeconfig', cp.kubeconfigPath, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function ok(...args: string[]): Promise<string> {
  const run = await kubectl(...args);
  if (run.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}

function configMapFile(name: string): string {
  const file = join(cp.dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\ndata:\n  k: v\n`,
  );
  return file;
}

// kubectl's `create <generator>` commands send protobuf, which Flotilla does not speak (yet): the
// tests use apply, as manifests and CI scripts do.
describe('kubectl against the Flotilla apiserver', () => {
  it('applies a multi-document manifest, reads it back, scales it and deletes it', async () => {
    const applied = await ok('apply', '-f', MANIFEST);
    expect(applied.trim().split('\n')).toEqual([
      'namespace/web created',
      'deployment.apps/web created',
      'service/web created',
      'horizontalpodautoscaler.autoscaling/web created',
    ]);

    const yamlOut = parse(await ok('get', 'deployment', 'web', '-n', 'web', '-o', 'yaml')) as {
      kind: string;
      metadata: { name: string; uid: string; resourceVersion: string; generation: number };
      spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
    };
    expect(yamlOut.kind).toBe('Deployment');
    expect(yamlOut.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    // The manifest leaves replicas to its autoscaler (no HPA controller runs here): the default, 1.
    expect(yamlOut.spec.replicas).toBe(1);
    expect(yamlOut.spec.template.spec.containers[0]?.image).toBe('flotilla/busybox:latest');

    expect((await ok('scale', 'deployment/web', '-n', 'web', '--replicas=5')).trim()).toBe(
      'deployment.apps/web scaled',
    );
    expect(await ok('get', 'deployment', 'web', '-n', 'web', '-o', 'jsonpath={.spec.replicas}')).toBe('5');

    const reapplied = await ok('apply', '-f', MANIFEST);
    expect(reapplied).toContain('namespace/web unchanged');
    expect(reapplied).toContain('service/web unchanged');

    // As on Kubernetes: the manifest sets no replicas, so a client-side apply leaves the scaled count.
    expect(await ok('get', 'deployment', 'web', '-n', 'web', '-o', 'jsonpath={.spec.replicas}')).toBe('5');
    // Server-side printing: kubectl shows the same columns as for Kubernetes.
    const table = await ok('get', 'deployments', '-n', 'web');
    expect(table.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(table.split('\n')[1]).toMatch(/^web\s+0\/5\s+0\s+0\s+\d+s$/);
    const wide = await ok('get', 'deployments', '-n', 'web', '-o', 'wide');
    expect(wide.split('\n')[0]).toContain('CONTAINERS   IMAGES');
    const all = await ok('get', 'services', '-A');
    expect(all.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP/);

    const names = await ok('get', 'deployments,services', '-n', 'web', '-o', 'name');
    expect(names.trim().split('\n').sort()).toEqual(['deployment.apps/web', 'service/web']);

    const deleted = await ok('delete', '-f', MANIFEST, '--wait=false');
    expect(deleted).toContain('deployment.apps "web" deleted');
    const gone = await kubectl('get', 'deployment', 'web', '-n', 'web');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('NotFound');
  });

  it('reports validation errors from the server and honours --dry-run=server', async () => {
    const bad = await kubectl('apply', '-f', configMapFile('Bad_Name'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ConfigMap "Bad_Name" is invalid');
    const dry = await ok('apply', '-f', configMapFile('dry'), '--dry-run=server', '-o', 'name');
    expect(dry.trim()).toBe('configmap/dry');
    expect((await kubectl('get', 'configmap', 'dry', '-n', 'default')).code).toBe(1);
  });

  it('watches with -w and sees a change', async () => {
    await ok('apply', '-f', configMapFile('watched'));
    const watcher = execFile(KUBECTL, [
      '--kubeconfig',
      cp.kubeconfigPath,
      'get',
      'configmap',
      'watched',
      '-n',
      'default',
      '-w',
      '-o',
      'jsonpath={.metadata.labels.step}{"\\n"}',
    ]);
    let output = '';
    watcher.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await ok('label', 'configmap', 'watched', '-n', 'default', 'step=two');
    const deadline = Date.now() + 10_000;
    while (!output.includes('two') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    watcher.kill();
    expect(output).toContain('two');
  });
});
