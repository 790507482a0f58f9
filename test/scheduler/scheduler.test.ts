// The scheduler against a real control plane: nodes registered as API objects (as node agents will
// register them), pods placed by requests against allocatable, spread across nodes, and a pod that
// fits nowhere told why in Kubernetes' words until a node with room arrives.
import { randomUUID } from 'node:crypto';
import { createClient, type RestClient } from '@flotilla/client';
import { startScheduler, type RunningScheduler } from '@flotilla/scheduler';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { requireTestEnv, until } from '../support/eventually';

const redisUrl = requireTestEnv('FLOTILLA_TEST_REDIS');

let cp: TestControlPlane;
let client: RestClient;
let scheduler: RunningScheduler;

interface PodState {
  spec: { nodeName?: string };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

function node(name: string, cpu: string, memory: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: {
      capacity: { cpu, memory, pods: '110' },
      allocatable: { cpu, memory, pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }],
    },
  };
}

function pod(name: string, cpu: string, memory: string, owner?: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: owner, controller: true },
            ],
          }
        : {}),
    },
    spec: {
      containers: [
        { name: 'app', image: 'flotilla/busybox:latest', resources: { requests: { cpu, memory } } },
      ],
    },
  };
}

beforeAll(async () => {
  cp = await startTestControlPlane('scheduler');
  client = createClient({ kubeconfig: cp.kubeconfigPath });
  for (const [name, cpu, memory] of [
    ['node-a', '2', '2Gi'],
    ['node-b', '2', '2Gi'],
  ] as const) {
    const created = await cp.request('POST', '/api/v1/nodes', { body: node(name, cpu, memory) });
    expect(created.status).toBe(201);
  }
  scheduler = startScheduler({
    client,
    redisUrl,
    queueName: `scheduler-${randomUUID()}`,
    resyncIntervalMs: 2000,
  });
  await scheduler.ready;
});

afterAll(async () => {
  await scheduler?.stop();
  client?.close();
  await cp?.stop();
});

async function boundNode(name: string): Promise<string> {
  return until(`${name} to be bound`, async () => {
    const result = await cp.request('GET', `/api/v1/namespaces/default/pods/${name}`);
    return result.json<PodState>().spec.nodeName;
  });
}

describe('scheduler', () => {
  it('binds pods to nodes with room and spreads the replicas of one owner', async () => {
    for (const name of ['web-1', 'web-2']) {
      expect(
        (
          await cp.request('POST', '/api/v1/namespaces/default/pods', {
            body: pod(name, '500m', '256Mi', 'rs-web'),
          })
        ).status,
      ).toBe(201);
    }
    const nodes = [await boundNode('web-1'), await boundNode('web-2')];
    expect(nodes.sort()).toEqual(['node-a', 'node-b']);
    const events = await cp.request(
      'GET',
      '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb-1',
    );
    expect(events.json<{ items: Array<{ reason: string; message: string }> }>().items).toEqual(
      expect.arrayContaining([expect.objectContaining({ reason: 'Scheduled' })]),
    );
  });

  it('tells an unschedulable pod why, then places it when a node with room registers', async () => {
    await cp.request('POST', '/api/v1/namespaces/default/pods', { body: pod('big', '1', '3Gi') });
    const condition = await until('PodScheduled=False', async () => {
      const state = (await cp.request('GET', '/api/v1/namespaces/default/pods/big')).json<PodState>();
      return state.status?.conditions?.find(
        (entry) => entry.type === 'PodScheduled' && entry.status === 'False',
      );
    });
    expect(condition.reason).toBe('Unschedulable');
    expect(condition.message).toBe('0/2 nodes are available: 2 Insufficient memory.');
    const events = await cp.request(
      'GET',
      '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dbig',
    );
    expect(events.json<{ items: Array<{ reason: string; type: string }> }>().items).toEqual(
      expect.arrayContaining([expect.objectContaining({ reason: 'FailedScheduling', type: 'Warning' })]),
    );

    await cp.request('POST', '/api/v1/nodes', { body: node('node-big', '4', '8Gi') });
    expect(await boundNode('big')).toBe('node-big');
  });

  it('never over-commits a node: pods beyond its room stay pending', async () => {
    await cp.request('POST', '/api/v1/nodes', {
      body: { ...node('node-small', '1', '1Gi'), spec: { taints: [] } },
    });
    // Cordon the others so only node-small is a candidate.
    for (const name of ['node-a', 'node-b', 'node-big']) {
      await cp.request('PATCH', `/api/v1/nodes/${name}`, {
        body: { spec: { unschedulable: true } },
        contentType: 'application/merge-patch+json',
      });
    }
    for (const name of ['fill-1', 'fill-2', 'fill-3']) {
      await cp.request('POST', '/api/v1/namespaces/default/pods', { body: pod(name, '400m', '256Mi') });
    }
    const placed = await until('two pods on node-small and one refused', async () => {
      const states = await Promise.all(
        ['fill-1', 'fill-2', 'fill-3'].map(async (name) =>
          (await cp.request('GET', `/api/v1/namespaces/default/pods/${name}`)).json<PodState>(),
        ),
      );
      const bound = states.filter((state) => state.spec.nodeName === 'node-small').length;
      const refused = states.filter((state) =>
        state.status?.conditions?.some((entry) => entry.type === 'PodScheduled' && entry.status === 'False'),
      ).length;
      return bound === 2 && refused === 1 ? states : undefined;
    });
    const message = placed
      .flatMap((state) => state.status?.conditions ?? [])
      .find((entry) => entry.status === 'False')?.message;
    expect(message).toContain('1 Insufficient cpu');
    expect(message).toContain('3 node(s) were unschedulable');
  });
});
