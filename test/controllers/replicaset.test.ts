// The ReplicaSet controller against a real control plane (etcd, apiserver) and Redis queues, running
// in-process with the garbage collector. No node agents run: the test plays the nodes through
// replicaset-node.fixture.ts (binding pods, reporting them Running/Ready through pods/status, finishing
// graceful deletions), because node agents are external to the controller under test.
import { randomUUID } from 'node:crypto';
import { resolveResourceName, type KubeObject, type ReplicaSet, type ResourceType } from '@flotilla/api';
import { createClient, type RestClient } from '@flotilla/client';
import {
  startGarbageCollector,
  startReplicaSetController,
  type RunningGarbageCollector,
  type RunningReplicaSetController,
} from '@flotilla/controllers';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { eventually, requireTestEnv, until } from '../support/eventually';
import { startFakeNodes, type FakeNodes, type PodObject } from './replicaset-node.fixture';

const redisUrl = requireTestEnv('FLOTILLA_TEST_REDIS');
const namespace = 'rs-test';

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}
const RS = type('replicasets');
const PODS = type('pods');

type ReplicaSetObject = ReplicaSet & KubeObject;

let cp: TestControlPlane;
let client: RestClient;
let controller: RunningReplicaSetController;
let collector: RunningGarbageCollector;
let nodes: FakeNodes;
const notReady = new Set<string>();

beforeAll(async () => {
  cp = await startTestControlPlane('replicaset');
  client = createClient({ kubeconfig: cp.kubeconfigPath, env: {} });
  await client.create(type('namespaces'), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
  const run = randomUUID();
  controller = startReplicaSetController({
    client,
    redisUrl,
    queueName: `rs-${run}`,
    resyncIntervalMs: 5000,
  });
  collector = startGarbageCollector({ client, redisUrl, queueName: `gc-${run}`, resyncIntervalMs: 5000 });
  nodes = startFakeNodes({
    cp,
    client,
    namespace,
    nodes: ['node-a', 'node-b'],
    ready: (pod) => !notReady.has(pod.metadata.name ?? ''),
  });
  await Promise.all([controller.ready, collector.ready, nodes.pods.waitForSync()]);
});

afterAll(async () => {
  nodes?.stop();
  await nodes?.settled();
  await controller?.stop();
  await collector?.stop();
  client?.close();
  await cp?.stop();
});

function replicaSet(
  name: string,
  replicas: number,
  extra: { minReadySeconds?: number } = {},
): ReplicaSetObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace },
    spec: {
      replicas,
      ...extra,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier: 'web' } },
        spec: { containers: [{ name: 'c', image: 'flotilla/busybox:1' }] },
      },
    },
  };
}

const podsOf = (app: string): PodObject[] =>
  nodes.pods.list().filter((pod) => pod.metadata.labels?.['app'] === app && !pod.metadata.deletionTimestamp);

async function scale(name: string, replicas: number): Promise<void> {
  await client.patch(RS, name, { spec: { replicas } }, { namespace, patchType: 'merge' });
}

async function statusOf(name: string): Promise<ReplicaSetObject['status']> {
  return (await client.get<ReplicaSetObject>(RS, name, { namespace })).status;
}

describe('ReplicaSet controller', () => {
  it('creates exactly the missing pods, owned and named after the ReplicaSet, and reports status', async () => {
    let most = 0;
    nodes.pods.addEventHandler({
      onAdd: () => {
        most = Math.max(most, podsOf('grow').length);
      },
    });
    const created = await client.create(RS, replicaSet('grow', 10));
    await until('10 pods ready', async () => (await statusOf('grow'))?.readyReplicas === 10);
    const status = await statusOf('grow');
    expect(status).toMatchObject({
      replicas: 10,
      fullyLabeledReplicas: 10,
      readyReplicas: 10,
      availableReplicas: 10,
      observedGeneration: 1,
    });
    // Expectations kept the controller from creating again while its own creations were in flight.
    expect(most).toBe(10);
    for (const pod of podsOf('grow')) {
      expect(pod.metadata.name).toMatch(/^grow-[a-z0-9]{5}$/);
      expect(pod.metadata.labels).toEqual({ app: 'grow', tier: 'web' });
      expect(pod.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'grow',
          uid: created.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
  });

  it('scales down by deleting the least valuable pods first', async () => {
    await client.create(RS, replicaSet('shrink', 4));
    await until('4 ready', async () => (await statusOf('shrink'))?.readyReplicas === 4);
    const [sick] = podsOf('shrink');
    notReady.add(sick?.metadata.name ?? '');
    nodes.poke();
    await until('one not ready', async () => (await statusOf('shrink'))?.readyReplicas === 3);
    await scale('shrink', 3);
    await until('3 replicas', async () => {
      const status = await statusOf('shrink');
      return status?.replicas === 3 && status.observedGeneration === 2;
    });
    expect(podsOf('shrink').map((pod) => pod.metadata.name)).not.toContain(sick?.metadata.name);
    expect((await statusOf('shrink'))?.readyReplicas).toBe(3);
  });

  it('adopts matching orphans instead of creating, and releases pods that stop matching', async () => {
    const orphan = await client.create<PodObject>(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orphan', namespace, labels: { app: 'adopt', tier: 'web' } },
      spec: { containers: [{ name: 'c', image: 'flotilla/busybox:1' }] },
    });
    const rs = await client.create(RS, replicaSet('adopt', 2));
    await until('2 replicas', async () => (await statusOf('adopt'))?.replicas === 2);
    const adopted = await client.get<PodObject>(PODS, 'orphan', { namespace });
    expect(adopted.metadata.uid).toBe(orphan.metadata.uid);
    expect(adopted.metadata.ownerReferences?.[0]).toMatchObject({ uid: rs.metadata.uid, controller: true });
    expect(podsOf('adopt')).toHaveLength(2);

    // Relabelled out of the selector: released, and replaced.
    await client.patch(
      PODS,
      'orphan',
      { metadata: { labels: { app: 'elsewhere' } } },
      { namespace, patchType: 'merge' },
    );
    await until('released', async () => {
      const pod = await client.get<PodObject>(PODS, 'orphan', { namespace });
      return (pod.metadata.ownerReferences ?? []).length === 0;
    });
    await until('replaced', async () => podsOf('adopt').length === 2);
    await client.delete(PODS, 'orphan', { namespace, gracePeriodSeconds: 0 });
  });

  it('counts pods available only after minReadySeconds, and comes back for them without an event', async () => {
    await client.create(RS, replicaSet('patient', 2, { minReadySeconds: 2 }));
    await until('ready', async () => (await statusOf('patient'))?.readyReplicas === 2);
    // No pod changes after this point: only the controller's own timer can bring the key back.
    await until('available', async () => (await statusOf('patient'))?.availableReplicas === 2, 15_000);
  });

  it('replaces a pod that is deleted from under it', async () => {
    await client.create(RS, replicaSet('heal', 2));
    await until('2 ready', async () => (await statusOf('heal'))?.readyReplicas === 2);
    const [victim] = podsOf('heal');
    await client.delete(PODS, victim?.metadata.name ?? '', { namespace, gracePeriodSeconds: 0 });
    await eventually(
      () =>
        podsOf('heal').length === 2 &&
        !podsOf('heal').some((pod) => pod.metadata.uid === victim?.metadata.uid),
      'a replacement',
    );
  });

  it('leaves its pods to the garbage collector when deleted', async () => {
    await client.create(RS, replicaSet('gone', 2));
    await until('2 pods', async () => (await statusOf('gone'))?.replicas === 2);
    await client.delete(RS, 'gone', { namespace });
    await until('pods collected', async () => {
      const list = await client.list(PODS, { namespace, labelSelector: 'app=gone' });
      return list.items.length === 0;
    });
  });
});
