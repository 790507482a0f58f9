// Two scheduler replicas elect one leader through a Lease: only the leader binds, and when it stops
// the other takes over and schedules what arrives next.
import { randomUUID } from 'node:crypto';
import { createClient, type RestClient } from '@flotilla/client';
import { startScheduler, type RunningScheduler } from '@flotilla/scheduler';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { eventually, requireTestEnv, until } from '../support/eventually';

const redisUrl = requireTestEnv('FLOTILLA_TEST_REDIS');

let cp: TestControlPlane;
const clients: RestClient[] = [];
const replicas: RunningScheduler[] = [];

beforeAll(async () => {
  cp = await startTestControlPlane('scheduler-leader');
  await cp.request('POST', '/api/v1/nodes', {
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-a' },
      status: {
        allocatable: { cpu: '4', memory: '4Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    },
  });
  const queueName = `scheduler-${randomUUID()}`;
  for (const identity of ['replica-1', 'replica-2']) {
    const client = createClient({ kubeconfig: cp.kubeconfigPath });
    clients.push(client);
    replicas.push(
      startScheduler({
        client,
        redisUrl,
        queueName,
        leaderElection: {
          namespace: 'kube-system',
          name: 'flotilla-scheduler',
          identity,
          leaseDurationSeconds: 4,
          renewDeadlineSeconds: 3,
          retryPeriodSeconds: 1,
        },
      }),
    );
  }
  await Promise.all(replicas.map((replica) => replica.ready));
});

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  clients.forEach((client) => client.close());
  await cp?.stop();
});

async function nodeOf(name: string): Promise<string | undefined> {
  const pod = (await cp.request('GET', `/api/v1/namespaces/default/pods/${name}`)).json<{
    spec: { nodeName?: string };
  }>();
  return pod.spec.nodeName;
}

async function createPod(name: string): Promise<void> {
  const created = await cp.request('POST', '/api/v1/namespaces/default/pods', {
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { containers: [{ name: 'a', image: 'busybox' }] },
    },
  });
  expect(created.status).toBe(201);
}

describe('scheduler leader election', () => {
  it('has exactly one leader, which schedules; when it stops, the other takes over', async () => {
    await eventually(
      () => replicas.filter((replica) => replica.isLeader()).length === 1,
      'one leader',
      15_000,
    );
    const lease = (
      await cp.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/flotilla-scheduler')
    ).json<{
      spec: { holderIdentity: string };
    }>();
    const leaderIndex = replicas.findIndex((replica) => replica.isLeader());
    expect(lease.spec.holderIdentity).toBe(`replica-${leaderIndex + 1}`);

    await createPod('first');
    expect(await until('first bound', () => nodeOf('first'))).toBe('node-a');

    const leader = replicas[leaderIndex];
    const follower = replicas[1 - leaderIndex];
    if (!leader || !follower) throw new Error('two replicas expected');
    await leader.stop();
    await eventually(() => follower.isLeader(), 'the follower to lead', 15_000);
    await createPod('second');
    expect(await until('second bound', () => nodeOf('second'))).toBe('node-a');
  });
});
