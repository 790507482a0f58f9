import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveResourceName, type KubeObject, type ResourceType } from '@flotilla/api';
import { createClient, isNotFound, type RestClient } from '@flotilla/client';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { eventually } from '../support/eventually';
import {
  requireFreshBuild,
  runFlotilla,
  startFlotilla,
  type FlotillaProcess,
  type FlotillaResult,
} from './flotilla-process';

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {app: web}
data:
  mode: fast
`;

let cp: TestControlPlane;
let client: RestClient;
let workdir: string;

beforeAll(async () => {
  requireFreshBuild();
  cp = await startTestControlPlane('cli');
  client = createClient({ kubeconfig: cp.kubeconfigPath, env: {} });
  workdir = mkdtempSync(join(tmpdir(), 'flotilla-cli-test-'));
  for (const name of ['listing', 'deleting', 'waiting', 'describing']) {
    await client.create(type('ns'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
});

afterAll(async () => {
  client?.close();
  await cp?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

/** Starts `flotilla` against the test apiserver, in a scratch directory of its own. */
function start(args: readonly string[], stdin?: string): FlotillaProcess {
  return startFlotilla(args, {
    env: { KUBECONFIG: cp.kubeconfigPath, FLOTILLA_HOME: workdir },
    cwd: workdir,
    stdin,
  });
}

function run(args: readonly string[], stdin?: string): Promise<FlotillaResult> {
  return runFlotilla(args, {
    env: { KUBECONFIG: cp.kubeconfigPath, FLOTILLA_HOME: workdir },
    cwd: workdir,
    stdin,
  });
}

/** Gives a started `wait` time to start and look, so the test shows it waits rather than races. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1500));
}

function configMap(
  name: string,
  labels: Record<string, string> = {},
  data: Record<string, string> = {},
): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data };
}

describe('flotilla apply and diff', () => {
  it('applies multi-document YAML from a file, then reports unchanged and configured', async () => {
    writeFileSync(join(workdir, 'shop.yaml'), MANIFESTS);
    const first = await run(['apply', '-f', 'shop.yaml']);
    expect(first).toEqual({
      code: 0,
      stdout: 'namespace/shop created\ndeployment.apps/web created\nconfigmap/settings created\n',
      stderr: '',
    });
    const again = await run(['apply', '-f', 'shop.yaml']);
    expect(again.stdout).toBe(
      'namespace/shop unchanged\ndeployment.apps/web unchanged\nconfigmap/settings unchanged\n',
    );

    const changed = await run(['apply', '-f', '-'], MANIFESTS.replace('mode: fast', 'mode: safe'));
    expect(changed.stdout).toContain('configmap/settings configured\n');
    const stored = await client.get(type('cm'), 'settings', { namespace: 'shop' });
    expect(stored['data']).toEqual({ mode: 'safe' });
  });

  it('changes nothing with --dry-run=server', async () => {
    const result = await run(
      ['apply', '-f', '-', '-n', 'listing', '--dry-run=server'],
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\n',
    );
    expect(result.stdout).toBe('configmap/dry created (server dry run)\n');
    const error = await client.get(type('cm'), 'dry', { namespace: 'listing' }).catch((e: unknown) => e);
    expect(isNotFound(error)).toBe(true);
  });

  it('exits 1 with a unified diff when apply would change something, 0 when not, 2 on errors', async () => {
    writeFileSync(
      join(workdir, 'diff.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: differ, namespace: listing}\ndata: {a: "1"}\n',
    );
    const absent = await run(['diff', '-f', 'diff.yaml']);
    expect(absent.code).toBe(1);
    expect(absent.stdout).toContain('+++ merged/v1.ConfigMap.listing.differ');
    expect(absent.stdout).toContain('+  a: "1"');

    expect((await run(['apply', '-f', 'diff.yaml'])).code).toBe(0);
    expect(await run(['diff', '-f', 'diff.yaml'])).toEqual({ code: 0, stdout: '', stderr: '' });

    writeFileSync(
      join(workdir, 'diff.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: differ, namespace: listing}\ndata: {a: "2"}\n',
    );
    const modified = await run(['diff', '-f', 'diff.yaml']);
    expect(modified.code).toBe(1);
    expect(modified.stdout).toMatch(/^-  a: "1"$/m);
    expect(modified.stdout).toMatch(/^\+  a: "2"$/m);

    const broken = await run(['diff', '-f', 'missing.yaml']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('the path "missing.yaml" does not exist');
  });
});

describe('flotilla get', () => {
  beforeAll(async () => {
    await client.create(type('cm'), configMap('alpha', { tier: 'front' }, { k: 'v' }), {
      namespace: 'listing',
    });
    await client.create(type('cm'), configMap('beta', { tier: 'back' }), { namespace: 'listing' });
  });

  it('prints a table, filtered by label', async () => {
    const result = await run(['get', 'configmaps', '-n', 'listing', '-l', 'tier']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^NAME +DATA +AGE\nalpha +1 +\d+s\nbeta +0 +\d+s\n$/);
  });

  it('prints -o name, -o json and -o yaml', async () => {
    expect((await run(['get', 'cm', '-n', 'listing', '-l', 'tier=front', '-o', 'name'])).stdout).toBe(
      'configmap/alpha\n',
    );
    const json = JSON.parse(
      (await run(['get', 'cm/alpha', '-n', 'listing', '-o', 'json'])).stdout,
    ) as KubeObject;
    expect(json).toMatchObject({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'alpha' },
      data: { k: 'v' },
    });
    const yaml = (await run(['get', 'cm', '-n', 'listing', '-l', 'tier', '-o', 'yaml'])).stdout;
    expect(yaml).toMatch(/^apiVersion: v1\nitems:\n/);
    expect(yaml).toContain('kind: List');
    expect(yaml).toContain('name: beta');
  });

  it('adds a LABELS column with --show-labels', async () => {
    const result = await run(['get', 'cm', 'alpha', '-n', 'listing', '--show-labels']);
    expect(result.stdout).toMatch(/^NAME +DATA +AGE +LABELS\nalpha +1 +\d+s +tier=front\n$/);
  });

  it('prints -o jsonpath for one object and for a list', async () => {
    const one = await run(['get', 'cm', 'alpha', '-n', 'listing', '-o', 'jsonpath={.data.k}']);
    expect(one).toEqual({ code: 0, stdout: 'v', stderr: '' });
    const many = await run([
      'get',
      'cm',
      '-n',
      'listing',
      '-l',
      'tier',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.tier}{"\\n"}{end}',
    ]);
    expect(many.stdout).toBe('alpha=front\nbeta=back\n');
    const broken = await run(['get', 'cm', '-n', 'listing', '-o', 'jsonpath={.items[x]}']);
    expect(broken.code).toBe(2);
  });

  it('says NotFound for a missing name and exits 1, and "No resources found" for an empty list', async () => {
    const missing = await run(['get', 'cm', 'nope', '-n', 'listing']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Error from server (NotFound)');
    const empty = await run(['get', 'pods', '-n', 'listing']);
    expect(empty).toEqual({ code: 0, stdout: '', stderr: 'No resources found in listing namespace.\n' });
  });

  it('lists across namespaces with -A and a NAMESPACE column', async () => {
    const result = await run(['get', 'cm', '-A', '-l', 'tier=front']);
    expect(result.stdout).toMatch(/^NAMESPACE +NAME +DATA +AGE\nlisting +alpha +1 /);
  });

  it('follows changes with -w until interrupted', async () => {
    const watching = start(['get', 'cm', '-n', 'listing', '-l', 'tier', '-w']);
    await eventually(() => watching.stdout().includes('beta'), 'the initial list');
    await client.patch(
      type('cm'),
      'beta',
      { data: { x: '1', y: '2' } },
      { namespace: 'listing', patchType: 'merge' },
    );
    await eventually(() => /\nbeta +2 +\d+s\n$/.test(watching.stdout()), 'the modified row');
    watching.interrupt();
    expect((await watching.done).code).toBe(0);
  });
});

describe('flotilla delete and wait', () => {
  it('deletes by label selector and waits until the objects are gone', async () => {
    for (const name of ['d1', 'd2', 'd3']) {
      await client.create(type('cm'), configMap(name, { batch: name === 'd3' ? 'b' : 'a' }), {
        namespace: 'deleting',
      });
    }
    const result = await run(['delete', 'cm', '-l', 'batch=a', '-n', 'deleting']);
    expect(result).toEqual({
      code: 0,
      stdout: 'configmap "d1" deleted\nconfigmap "d2" deleted\n',
      stderr: '',
    });
    const left = await client.list(type('cm'), { namespace: 'deleting' });
    expect(left.items.map((item) => item.metadata.name)).toEqual(['d3']);
  });

  it('deletes what a manifest describes, and reports objects that are not there', async () => {
    writeFileSync(
      join(workdir, 'gone.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d3, namespace: deleting}\n',
    );
    expect((await run(['delete', '-f', 'gone.yaml'])).stdout).toBe('configmap "d3" deleted\n');
    const again = await run(['delete', '-f', 'gone.yaml']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Error from server (NotFound)');
    expect((await run(['delete', '-f', 'gone.yaml', '--ignore-not-found'])).code).toBe(0);
  });

  it('waits for an object that does not exist yet, and for its deletion', async () => {
    const creation = start(['wait', 'cm/later', '--for=create', '-n', 'waiting', '--timeout=20s']);
    await settle();
    expect(creation.running()).toBe(true);
    await client.create(type('cm'), configMap('later'), { namespace: 'waiting' });
    expect(await creation.done).toMatchObject({ code: 0, stdout: 'configmap/later condition met\n' });

    const deletion = start(['wait', 'configmap', 'later', '--for=delete', '-n', 'waiting', '--timeout=20s']);
    await settle();
    expect(deletion.running()).toBe(true);
    await client.delete(type('cm'), 'later', { namespace: 'waiting' });
    expect((await deletion.done).code).toBe(0);
  });

  it('waits for a condition in status', async () => {
    const deployments = type('deploy');
    const created = await client.create(
      deployments,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'rolling' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'rolling' } },
          template: {
            metadata: { labels: { app: 'rolling' } },
            spec: { containers: [{ name: 'c', image: 'busybox' }] },
          },
        },
      },
      { namespace: 'waiting' },
    );
    const waiting = start([
      'wait',
      'deploy/rolling',
      '--for=condition=Available',
      '-n',
      'waiting',
      '--timeout=20s',
    ]);
    await settle();
    expect(waiting.running()).toBe(true);
    await client.updateStatus(deployments, {
      ...created,
      status: { conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }] },
    });
    expect(await waiting.done).toMatchObject({ code: 0, stdout: 'deployment.apps/rolling condition met\n' });
  });

  it('fails with exit 1 when the timeout passes', async () => {
    const result = await run(['wait', 'cm/never', '--for=create', '-n', 'waiting', '--timeout=1s']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: timed out waiting for create on configmaps/never\n');
  });
});

describe('flotilla describe', () => {
  it('shows the object and its events, oldest first', async () => {
    const object = await client.create(type('cm'), configMap('described', { app: 'x' }, { a: '1' }), {
      namespace: 'describing',
    });
    const event = (name: string, reason: string, seconds: number): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name },
      involvedObject: {
        kind: 'ConfigMap',
        name: 'described',
        namespace: 'describing',
        uid: object.metadata.uid,
        apiVersion: 'v1',
      },
      reason,
      message: `${reason} happened`,
      type: 'Normal',
      source: { component: 'test' },
      count: 1,
      firstTimestamp: new Date(Date.now() - seconds * 1000).toISOString(),
      lastTimestamp: new Date(Date.now() - seconds * 1000).toISOString(),
    });
    await client.create(type('ev'), event('described.2', 'Second', 10), { namespace: 'describing' });
    await client.create(type('ev'), event('described.1', 'First', 60), { namespace: 'describing' });

    const result = await run(['describe', 'cm', 'described', '-n', 'describing']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Name: +described\nNamespace: +describing\nLabels: +app=x\n/);
    expect(result.stdout).toMatch(
      /Events:\n  Type +Reason +Age +From +Message\n  -+ +-+ +-+ +-+ +-+\n  Normal +First +\d+s +test +First happened\n  Normal +Second +\d+s +test +Second happened\n$/,
    );
  });
});
