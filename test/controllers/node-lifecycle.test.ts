// Node lifecycle against a real control plane: a node whose Lease stops being renewed becomes
// Unknown and tainted, its pods are marked not ready and then evicted; a renewed Lease lifts the taint.
import { randomUUID } from 'node:crypto';
import { createClient, type RestClient } from '@flotilla/client';
import { startNodeLifecycleController, type RunningNodeLifecycle } from '@flotilla/controllers';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { requireTestEnv, until } from '../support/eventually';

const redisUrl = requireTestEnv('FLOTILLA_TEST_REDIS');

let cp: TestControlPlane;
let client: RestClient;
let controller: RunningNodeLifecycle;

interface NodeState {
  spec?: { taints?: Array<{ key: string; effect: string }> };
  status: { conditions?: Array<{ type: string; status: string; reason?: string }> };
}
interface PodState {
  metadata: { deletionTimestamp?: string };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string }> };
}

const microTime = (): string => new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

async function renew(node: string): Promise<void> {
  const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`;
  const body = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: node, namespace: 'kube-node-lease' },
    spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: microTime() },
  };
  // PUT creates a Lease that does not exist yet, as node agents rely on.
  const result = await cp.request('PUT', path, { body });
  expect([200, 201]).toContain(result.status);
}

beforeAll(async () => {
  cp = await startTestControlPlane('node-lifecycle');
  client = createClient({ kubeconfig: cp.kubeconfigPath });
  await cp.request('POST', '/api/v1/nodes', {
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-a' },
      status: {
        allocatable: { cpu: '2', memory: '2Gi', pods: '10' },
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    },
  });
  await renew('node-a');
  await cp.request('POST', '/api/v1/namespaces/default/pods', {
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'victim' },
      spec: { containers: [{ name: 'a', image: 'busybox' }] },
    },
  });
  await cp.request('POST', '/api/v1/namespaces/default/pods/victim/binding', {
    body: {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'victim' },
      target: { kind: 'Node', name: 'node-a' },
    },
  });
  controller = startNodeLifecycleController({
    client,
    redisUrl,
    queueName: `node-lifecycle-${randomUUID()}`,
    gracePeriodMs: 1500,
    evictionTimeoutMs: 1500,
    checkIntervalMs: 200,
  });
  await controller.ready;
});

afterAll(async () => {
  await controller?.stop();
  client?.close();
  await cp?.stop();
});

describe('node lifecycle', () => {
  it('marks a silent node unreachable, evicts its pods, and lifts the taint when it returns', async () => {
    const node = await until('node-a unreachable', async () => {
      const state = (await cp.request('GET', '/api/v1/nodes/node-a')).json<NodeState>();
      const ready = state.status.conditions?.find((condition) => condition.type === 'Ready');
      const tainted = state.spec?.taints?.some((taint) => taint.key === 'node.kubernetes.io/unreachable');
      return ready?.status === 'Unknown' && tainted ? state : undefined;
    });
    expect(node.status.conditions?.find((condition) => condition.type === 'Ready')?.reason).toBe(
      'NodeStatusUnknown',
    );

    const evicted = await until('the pod evicted', async () => {
      const state = (await cp.request('GET', '/api/v1/namespaces/default/pods/victim')).json<PodState>();
      return state.metadata.deletionTimestamp ? state : undefined;
    });
    expect(evicted.status?.conditions?.find((condition) => condition.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'NodeLost',
    });

    await renew('node-a');
    await until('the taint lifted', async () => {
      const state = (await cp.request('GET', '/api/v1/nodes/node-a')).json<NodeState>();
      return state.spec?.taints?.some((taint) => taint.key === 'node.kubernetes.io/unreachable')
        ? undefined
        : true;
    });
  });

  it('taints a node NoSchedule while its conditions report pressure, and removes the taint after', async () => {
    await cp.request('POST', '/api/v1/nodes', {
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'node-b' },
        spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] },
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      },
    });
    // A live node: its Lease keeps being renewed, so only the condition taints are in play.
    await renew('node-b');
    const renewing = setInterval(() => void renew('node-b').catch(() => undefined), 300);
    const setConditions = async (memory: string, pid: string): Promise<void> => {
      const current = (await cp.request('GET', '/api/v1/nodes/node-b')).json<NodeState & object>();
      const result = await cp.request('PUT', '/api/v1/nodes/node-b/status', {
        body: {
          ...current,
          status: {
            ...current.status,
            conditions: [
              { type: 'Ready', status: 'True' },
              { type: 'MemoryPressure', status: memory },
              { type: 'DiskPressure', status: 'False' },
              { type: 'PIDPressure', status: pid },
            ],
          },
        },
      });
      expect(result.status).toBe(200);
    };
    const taintKeys = async (): Promise<string[]> =>
      ((await cp.request('GET', '/api/v1/nodes/node-b')).json<NodeState>().spec?.taints ?? [])
        .map((taint) => `${taint.key}:${taint.effect}`)
        .sort();
    try {
      await setConditions('True', 'True');
      await until('pressure taints on node-b', async () => {
        const keys = await taintKeys();
        return keys.length === 3 ? keys : undefined;
      });
      expect(await taintKeys()).toEqual([
        'dedicated:NoSchedule',
        'node.kubernetes.io/memory-pressure:NoSchedule',
        'node.kubernetes.io/pid-pressure:NoSchedule',
      ]);
      await setConditions('False', 'False');
      await until('pressure taints gone from node-b', async () => {
        const keys = await taintKeys();
        return keys.length === 1 ? keys : undefined;
      });
      expect(await taintKeys()).toEqual(['dedicated:NoSchedule']);
    } finally {
      clearInterval(renewing);
    }
  });
});
