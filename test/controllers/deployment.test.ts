// The Deployment controller with the ReplicaSet controller and the garbage collector, in-process,
// against a real control plane (etcd, apiserver) and Redis queues. No node agents run: the test plays
// the nodes (replicaset-node.fixture.ts), binding pods and reporting them Running/Ready through
// pods/status, because node agents are external to the controllers under test. Which new pods become
// ready is the test's choice, so a rollout can be watched one step at a time, or broken.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  resolveResourceName,
  type Deployment,
  type KubeObject,
  type ReplicaSet,
  type ResourceType,
} from '@flotilla/api';
import type { RestClient } from '@flotilla/client';
import type { TestControlPlane } from '../support/cluster';
import { until } from '../support/eventually';
import { startWorkloadTestBed, type WorkloadTestBed } from './workload-controllers.fixture';
import type { FakeNodes, PodObject } from './replicaset-node.fixture';

const namespace = 'deploy-test';
const run = promisify(execFile);

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}
const DEPLOYMENTS = type('deployments');
const RS = type('replicasets');

type DeploymentObject = Deployment & KubeObject;
type ReplicaSetObject = ReplicaSet & KubeObject;

let cp: TestControlPlane;
let client: RestClient;
let bed: WorkloadTestBed | undefined;
let nodes: FakeNodes;
/** New pods the test lets become ready; every pod of an image in `readyImages` is ready at once. */
const allowed = new Set<string>();
const readyImages = new Set<string>(['web:1']);

beforeAll(async () => {
  bed = await startWorkloadTestBed({
    name: 'deployment',
    namespace,
    nodes: ['node-a', 'node-b', 'node-c'],
    ready: (pod) =>
      allowed.has(pod.metadata.name ?? '') || readyImages.has(pod.spec.containers[0]?.image ?? ''),
  });
  ({ cp, client, nodes } = bed);
});

afterAll(async () => {
  await bed?.stop();
});

interface DeploymentOptions {
  replicas?: number;
  image?: string;
  strategy?: Deployment['spec']['strategy'];
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
}

function deployment(name: string, options: DeploymentOptions = {}): DeploymentObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: options.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      ...(options.strategy ? { strategy: options.strategy } : {}),
      ...(options.revisionHistoryLimit !== undefined
        ? { revisionHistoryLimit: options.revisionHistoryLimit }
        : {}),
      ...(options.progressDeadlineSeconds
        ? { progressDeadlineSeconds: options.progressDeadlineSeconds }
        : {}),
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: options.image ?? 'web:1' }] },
      },
    },
  };
}

const get = (name: string): Promise<DeploymentObject> =>
  client.get<DeploymentObject>(DEPLOYMENTS, name, { namespace });

async function replicaSetsOf(name: string): Promise<ReplicaSetObject[]> {
  const list = await client.list<ReplicaSetObject>(RS, { namespace, labelSelector: `app=${name}` });
  return list.items;
}

function setImage(name: string, image: string): Promise<KubeObject> {
  return client.patch(
    DEPLOYMENTS,
    name,
    { spec: { template: { spec: { containers: [{ name: 'web', image }] } } } },
    { namespace, patchType: 'strategic' },
  );
}

/** Done as `kubectl rollout status` judges it. */
async function rolledOut(name: string): Promise<DeploymentObject | false> {
  const current = await get(name);
  const status = current.status ?? {};
  const replicas = current.spec.replicas ?? 1;
  return (
    (status.observedGeneration ?? 0) >= (current.metadata.generation ?? 1) &&
    status.updatedReplicas === replicas &&
    status.replicas === replicas &&
    status.availableReplicas === replicas &&
    current
  );
}

const livePods = (app: string): PodObject[] =>
  nodes.pods.list().filter((pod) => pod.metadata.labels?.['app'] === app && !pod.metadata.deletionTimestamp);
const isReady = (pod: PodObject): boolean =>
  pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ===
  true;

function kubectl(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('kubectl', ['--kubeconfig', cp.kubeconfigPath, '-n', namespace, ...args], { timeout: 60_000 });
}

describe('Deployment controller', () => {
  it('creates a ReplicaSet with the template hash, revision 1, and reports itself available', async () => {
    await client.create(DEPLOYMENTS, deployment('first'));
    const done = await until('rolled out', () => rolledOut('first'));
    const [rs] = await replicaSetsOf('first');
    const hash = rs?.metadata.labels?.['pod-template-hash'] ?? '';
    expect(hash).not.toBe('');
    expect(rs?.metadata.name).toBe(`first-${hash}`);
    expect(rs?.spec.selector.matchLabels).toEqual({ app: 'first', 'pod-template-hash': hash });
    expect(rs?.metadata.annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
    expect(done.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(done.status).toMatchObject({
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    });
    expect(done.status?.unavailableReplicas ?? 0).toBe(0);
    const conditions = Object.fromEntries((done.status?.conditions ?? []).map((c) => [c.type, c.reason]));
    expect(conditions).toEqual({
      Available: 'MinimumReplicasAvailable',
      Progressing: 'NewReplicaSetAvailable',
    });
  });

  it('rolls out with pods ≤ replicas + maxSurge and ready ≥ replicas − maxUnavailable at every observed state', async () => {
    const replicas = 4;
    await client.create(
      DEPLOYMENTS,
      deployment('rolling', {
        replicas,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      }),
    );
    await until('v1 rolled out', () => rolledOut('rolling'));
    const violations: string[] = [];
    let states = 0;
    const check = (): void => {
      const pods = livePods('rolling');
      const ready = pods.filter(isReady).length;
      states += 1;
      if (pods.length > replicas + 1) violations.push(`${pods.length} pods`);
      if (ready < replicas - 1) violations.push(`${ready} ready`);
    };
    nodes.pods.addEventHandler({ onAdd: check, onUpdate: check, onDelete: check });
    await setImage('rolling', 'web:2');
    // Let one new pod at a time become ready, as a slow node would.
    while (!(await rolledOut('rolling'))) {
      const waiting = livePods('rolling').find(
        (pod) => pod.spec.containers[0]?.image === 'web:2' && !allowed.has(pod.metadata.name ?? ''),
      );
      if (waiting) {
        allowed.add(waiting.metadata.name ?? '');
        nodes.poke();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(violations).toEqual([]);
    expect(states).toBeGreaterThan(replicas);
    const sets = await replicaSetsOf('rolling');
    const byRevision = Object.fromEntries(
      sets.map((rs) => [rs.metadata.annotations?.['deployment.kubernetes.io/revision'], rs.spec.replicas]),
    );
    expect(byRevision).toEqual({ '1': 0, '2': replicas });
    expect(livePods('rolling').every((pod) => pod.spec.containers[0]?.image === 'web:2')).toBe(true);
  });

  it('Recreate never runs old and new pods at once', async () => {
    await client.create(DEPLOYMENTS, deployment('recreate', { strategy: { type: 'Recreate' } }));
    await until('v1 rolled out', () => rolledOut('recreate'));
    readyImages.add('web:3');
    let together = 0;
    const check = (): void => {
      const images = new Set(
        nodes.pods
          .list()
          .filter((pod) => pod.metadata.labels?.['app'] === 'recreate')
          .map((pod) => pod.spec.containers[0]?.image),
      );
      if (images.has('web:1') && images.has('web:3')) together += 1;
    };
    nodes.pods.addEventHandler({ onAdd: check, onUpdate: check });
    await setImage('recreate', 'web:3');
    await until('v3 rolled out', () => rolledOut('recreate'));
    expect(together).toBe(0);
    expect(livePods('recreate').map((pod) => pod.spec.containers[0]?.image)).toEqual([
      'web:3',
      'web:3',
      'web:3',
    ]);
  });

  it('scales proportionally when resized mid-rollout, and keeps scaling while paused', async () => {
    await client.create(
      DEPLOYMENTS,
      deployment('resize', {
        replicas: 10,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } },
      }),
    );
    await until('v1 rolled out', () => rolledOut('resize'));
    // web:4 never becomes ready here: the rollout holds at old 8, new 5 (the worked example).
    await setImage('resize', 'web:4');
    const sizes = async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        (await replicaSetsOf('resize')).map((rs) => [
          rs.spec.template?.spec.containers[0]?.image,
          rs.spec.replicas ?? 0,
        ]),
      );
    await until('held mid-rollout', async () => {
      const now = await sizes();
      return now['web:1'] === 8 && now['web:4'] === 5;
    });
    await client.patch(
      DEPLOYMENTS,
      'resize',
      { spec: { paused: true, replicas: 15 } },
      { namespace, patchType: 'merge' },
    );
    await until('resized proportionally', async () => {
      const now = await sizes();
      // 15 + surge 3 = 18 allowed for 13 sized for 13: old 8·18/13 → 11, new 5·18/13 → 7.
      return now['web:1'] === 11 && now['web:4'] === 7;
    });
    const paused = await until('paused condition', async () => {
      const current = await get('resize');
      const progressing = current.status?.conditions?.find((c) => c.type === 'Progressing');
      return progressing?.reason === 'DeploymentPaused' && current;
    });
    expect(paused.status?.conditions?.find((c) => c.type === 'Progressing')?.status).toBe('Unknown');
  });

  it('pause holds a template change; resume rolls it out', async () => {
    await client.create(DEPLOYMENTS, deployment('paused'));
    await until('v1 rolled out', () => rolledOut('paused'));
    await client.patch(DEPLOYMENTS, 'paused', { spec: { paused: true } }, { namespace, patchType: 'merge' });
    readyImages.add('web:5');
    const changed = await setImage('paused', 'web:5');
    await until('change observed while paused', async () => {
      const current = await get('paused');
      return (current.status?.observedGeneration ?? 0) >= (changed.metadata.generation ?? 0);
    });
    expect((await replicaSetsOf('paused')).map((rs) => rs.spec.template?.spec.containers[0]?.image)).toEqual([
      'web:1',
    ]);
    await client.patch(DEPLOYMENTS, 'paused', { spec: { paused: false } }, { namespace, patchType: 'merge' });
    await until('v5 rolled out', async () => {
      const done = await rolledOut('paused');
      return done !== false && livePods('paused').every((pod) => pod.spec.containers[0]?.image === 'web:5');
    });
  });

  it('keeps revisionHistoryLimit old ReplicaSets and numbers revisions', async () => {
    await client.create(DEPLOYMENTS, deployment('history', { revisionHistoryLimit: 1, replicas: 1 }));
    await until('v1 rolled out', () => rolledOut('history'));
    for (const image of ['web:6', 'web:7']) {
      readyImages.add(image);
      await setImage('history', image);
      await until(`${image} rolled out`, async () => {
        const done = await rolledOut('history');
        return done !== false && livePods('history').every((pod) => pod.spec.containers[0]?.image === image);
      });
    }
    await until('history trimmed', async () => (await replicaSetsOf('history')).length === 2);
    const revisions = (await replicaSetsOf('history'))
      .map(
        (rs) =>
          `${rs.metadata.annotations?.['deployment.kubernetes.io/revision']}:${rs.spec.template?.spec.containers[0]?.image}`,
      )
      .sort();
    expect(revisions).toEqual(['2:web:6', '3:web:7']);
    expect((await get('history')).metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
  });

  it('reports ProgressDeadlineExceeded when new pods never become ready', async () => {
    await client.create(DEPLOYMENTS, deployment('stuck', { progressDeadlineSeconds: 2 }));
    await until('v1 rolled out', () => rolledOut('stuck'));
    await setImage('stuck', 'web:broken');
    const failed = await until(
      'deadline exceeded',
      async () => {
        const current = await get('stuck');
        const progressing = current.status?.conditions?.find((c) => c.type === 'Progressing');
        return progressing?.reason === 'ProgressDeadlineExceeded' && progressing;
      },
      30_000,
    );
    expect(failed.status).toBe('False');
    expect(failed.message).toMatch(/^ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\.$/);
    // kubectl sees the same failure.
    await expect(kubectl('rollout', 'status', 'deployment/stuck', '--timeout=20s')).rejects.toMatchObject({
      stderr: expect.stringContaining('deployment "stuck" exceeded its progress deadline'),
    });
  });

  it('works with kubectl rollout status, rollout undo, rollout history and scale', async () => {
    await client.create(DEPLOYMENTS, deployment('kube', { replicas: 2 }));
    const status = await kubectl('rollout', 'status', 'deployment/kube', '--timeout=60s');
    expect(status.stdout).toContain('deployment "kube" successfully rolled out');
    readyImages.add('web:8');
    await setImage('kube', 'web:8');
    await kubectl('rollout', 'status', 'deployment/kube', '--timeout=60s');
    const history = await kubectl('rollout', 'history', 'deployment/kube');
    expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);

    const undo = await kubectl('rollout', 'undo', 'deployment/kube');
    expect(undo.stdout).toContain('deployment.apps/kube rolled back');
    await kubectl('rollout', 'status', 'deployment/kube', '--timeout=60s');
    const back = await get('kube');
    expect(back.spec.template.spec.containers[0]?.image).toBe('web:1');
    expect(back.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    const revisions = (await replicaSetsOf('kube')).map((rs) => ({
      image: rs.spec.template?.spec.containers[0]?.image,
      revision: rs.metadata.annotations?.['deployment.kubernetes.io/revision'],
      history: rs.metadata.annotations?.['deployment.kubernetes.io/revision-history'],
    }));
    expect(revisions).toEqual(
      expect.arrayContaining([
        { image: 'web:1', revision: '3', history: '1' },
        { image: 'web:8', revision: '2', history: undefined },
      ]),
    );
    expect(livePods('kube').every((pod) => pod.spec.containers[0]?.image === 'web:1')).toBe(true);

    await kubectl('scale', 'deployment/kube', '--replicas=4');
    await until('scaled to 4', async () => {
      const done = await rolledOut('kube');
      return done !== false && done.spec.replicas === 4 && livePods('kube').length === 4;
    });
  });
});
