// The flotilla CLI's rollout commands (bin/flotilla, the real executable over dist/) against the
// Deployment, ReplicaSet and garbage collector controllers running in-process on a real control plane.
// No node agents run: the test plays the nodes (replicaset-node.fixture.ts), reporting pods Running
// and Ready, or stuck pulling an image, through pods/status, because node agents are external to the
// controllers and the CLI under test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveResourceName, type Deployment, type KubeObject, type ResourceType } from '@flotilla/api';
import type { RestClient } from '@flotilla/client';
import { requireFreshBuild, runFlotilla, startFlotilla } from '../cli/flotilla-process';
import type { TestControlPlane } from '../support/cluster';
import { eventually, until } from '../support/eventually';
import { startWorkloadTestBed, type WorkloadTestBed } from './workload-controllers.fixture';
import type { FakeNodes } from './replicaset-node.fixture';

const namespace = 'rollout-cli';

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}
const DEPLOYMENTS = type('deployments');
type DeploymentObject = Deployment & KubeObject;

let cp: TestControlPlane;
let client: RestClient;
let bed: WorkloadTestBed | undefined;
let nodes: FakeNodes;
let workdir: string;
const readyImages = new Set<string>(['web:1']);

beforeAll(async () => {
  requireFreshBuild();
  workdir = mkdtempSync(join(tmpdir(), 'flotilla-rollout-cli-'));
  bed = await startWorkloadTestBed({
    name: 'rollout-cli',
    namespace,
    nodes: ['node-a', 'node-b'],
    ready: (pod) => readyImages.has(pod.spec.containers[0]?.image ?? ''),
    waiting: (pod) =>
      pod.spec.containers[0]?.image === 'web:broken'
        ? { reason: 'ImagePullBackOff', message: 'Back-off pulling image "web:broken"' }
        : undefined,
  });
  ({ cp, client, nodes } = bed);
});

afterAll(async () => {
  await bed?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

const options = () => ({ env: { KUBECONFIG: cp.kubeconfigPath }, cwd: workdir });
const flotilla = (...args: string[]) => runFlotilla(['-n', namespace, ...args], options());

async function createDeployment(name: string, extra: Partial<Deployment['spec']> = {}): Promise<void> {
  await client.create<DeploymentObject>(DEPLOYMENTS, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: 'web:1' }] },
      },
      ...extra,
    },
  });
  expect((await flotilla('rollout', 'status', `deploy/${name}`, '--timeout=60s')).code).toBe(0);
}

const image = async (name: string): Promise<string | undefined> =>
  (await client.get<DeploymentObject>(DEPLOYMENTS, name, { namespace })).spec.template.spec.containers[0]
    ?.image;

describe('flotilla rollout against the deployment controller', () => {
  it('set image, then rollout status prints kubectl’s progress lines and exits 0', async () => {
    await createDeployment('web');
    expect(await flotilla('set', 'image', 'deploy/web', 'web=web:2')).toMatchObject({
      code: 0,
      stdout: 'deployment.apps/web image updated\n',
    });
    const watching = startFlotilla(
      ['-n', namespace, 'rollout', 'status', 'deploy/web', '--timeout=60s'],
      options(),
    );
    await eventually(
      () =>
        watching
          .stdout()
          .includes(
            'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...',
          ),
      'the first progress line',
      30_000,
    );
    readyImages.add('web:2');
    nodes.poke();
    const result = await watching.done;
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n').pop()).toBe('deployment "web" successfully rolled out');
    expect(await image('web')).toBe('web:2');
  });

  it('rollout history lists revisions and shows one; undo goes back and becomes the next revision', async () => {
    const history = await flotilla('rollout', 'history', 'deploy/web');
    expect(history.code).toBe(0);
    expect(history.stdout).toBe(
      'deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n',
    );
    const revision = await flotilla('rollout', 'history', 'deploy/web', '--revision', '2');
    expect(revision.stdout).toContain('deployment.apps/web with revision #2\nPod Template:\n');
    expect(revision.stdout).toContain('    Image:\tweb:2\n');

    expect(await flotilla('rollout', 'undo', 'deploy/web')).toMatchObject({
      code: 0,
      stdout: 'deployment.apps/web rolled back\n',
    });
    expect((await flotilla('rollout', 'status', 'deploy/web', '--timeout=60s')).code).toBe(0);
    expect(await image('web')).toBe('web:1');
    const after = await flotilla('rollout', 'history', 'deploy/web');
    expect(after.stdout).toContain('REVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n');

    const missing = await flotilla('rollout', 'undo', 'deploy/web', '--to-revision', '9');
    expect(missing).toMatchObject({
      code: 1,
      stderr: 'error: unable to find specified revision 9 in history\n',
    });
    const same = await flotilla('rollout', 'undo', 'deploy/web', '--to-revision', '3');
    expect(same.stdout).toBe(
      'deployment.apps/web skipped rollback (current template already matches revision 3)\n',
    );
  });

  it('rollout pause and resume, refusing undo while paused', async () => {
    expect(await flotilla('rollout', 'pause', 'deploy/web')).toMatchObject({
      code: 0,
      stdout: 'deployment.apps/web paused\n',
    });
    const again = await flotilla('rollout', 'pause', 'deploy/web');
    expect(again).toMatchObject({ code: 1, stderr: 'error: deployments.apps "web" is already paused\n' });
    const undo = await flotilla('rollout', 'undo', 'deploy/web');
    expect(undo.code).toBe(1);
    expect(undo.stderr).toContain('you cannot rollback a paused deployment');
    expect(await flotilla('rollout', 'resume', 'deploy/web')).toMatchObject({
      code: 0,
      stdout: 'deployment.apps/web resumed\n',
    });
  });

  it('rollout status fails fast with exit 5 naming the pod, container and reason when new pods cannot pull', async () => {
    await createDeployment('broken');
    await flotilla('set', 'image', 'deploy/broken', 'web=web:broken');
    const result = await flotilla('rollout', 'status', 'deploy/broken', '--timeout=120s');
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(
      /^error: deployment "broken" rollout failed: pod broken-[a-z0-9]+-[a-z0-9]+ container web is ImagePullBackOff: Back-off pulling image "web:broken"\n$/,
    );
  });

  it('rollout status exits 4 once the progress deadline is exceeded', async () => {
    // The short deadline only for the update: a first rollout slowed by a busy machine must not miss it.
    await createDeployment('late');
    await client.patch(
      DEPLOYMENTS,
      'late',
      { spec: { progressDeadlineSeconds: 2 } },
      { namespace, patchType: 'merge' },
    );
    await flotilla('set', 'image', 'deploy/late', 'web=web:never-ready');
    const result = await flotilla('rollout', 'status', 'deploy/late', '--timeout=120s');
    expect(result).toMatchObject({
      code: 4,
      stderr: 'error: deployment "late" exceeded its progress deadline\n',
    });
  });

  it('rollout status exits 3 when its own --timeout passes first', async () => {
    await createDeployment('slow');
    await flotilla('set', 'image', 'deploy/slow', 'web=web:never-ready');
    const result = await flotilla('rollout', 'status', 'deploy/slow', '--timeout=2s');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /^error: timed out waiting for deployment "slow" to roll out \(last: Waiting for deployment "slow" rollout to finish: /,
    );
    await until('still rolling', async () => (await image('slow')) === 'web:never-ready');
  });

  it('set image refuses an unknown container without changing anything', async () => {
    const result = await flotilla('set', 'image', 'deploy/web', 'db=postgres:16');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: unable to find container named "db" (it has web)\n');
    expect(await image('web')).toBe('web:1');
  });

  it('get events lists events oldest first by when they last happened', async () => {
    for (const [name, last] of [
      ['e-late', '10:00:30'],
      ['e-early', '10:00:10'],
      ['e-middle', '10:00:20'],
    ] as const) {
      await client.create(type('events'), {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: { kind: 'Deployment', name: 'web', namespace },
        reason: 'Test',
        message: name,
        type: 'Normal',
        firstTimestamp: '2026-11-23T09:00:00Z',
        lastTimestamp: `2026-11-23T${last}Z`,
        count: 1,
      });
    }
    const listed = await flotilla('get', 'events', '-o', 'name', '--field-selector', 'reason=Test');
    expect(listed.stdout).toBe('event/e-early\nevent/e-middle\nevent/e-late\n');
  });

  it('apply --wait gates on the rollout: 0 once rolled out, 5 when the new pods cannot pull', async () => {
    const manifest = (tag: string): string =>
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: gated',
        'spec:',
        '  replicas: 2',
        '  selector: { matchLabels: { app: gated } }',
        '  template:',
        '    metadata: { labels: { app: gated } }',
        `    spec: { containers: [{ name: web, image: "web:${tag}" }] }`,
        '',
      ].join('\n');
    const good = await runFlotilla(['-n', namespace, 'apply', '-f', '-', '--wait', '--timeout=60s'], {
      ...options(),
      stdin: manifest('1'),
    });
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^deployment\.apps\/gated created\n/);
    expect(good.stdout).toContain('deployment "gated" successfully rolled out\n');

    const bad = await runFlotilla(['-n', namespace, 'apply', '-f', '-', '--wait', '--timeout=60s'], {
      ...options(),
      stdin: manifest('broken'),
    });
    expect(bad.code).toBe(5);
    expect(bad.stdout).toMatch(/^deployment\.apps\/gated configured\n/);
    expect(bad.stderr).toMatch(/ImagePullBackOff/);
  });
});
