// A real three-node cluster on this machine (test/support/multi-node.ts): node agents in their own
// network namespaces and cgroups register different capacities, the scheduler places pods only where
// they fit, pods on different nodes talk to each other by IP, an agent restart leaves its containers
// alone, and a node that disappears has its pods marked lost and evicted.
import { Quantity } from '@flotilla/api';
import { until } from '../support/eventually';
import { BASE_IMAGE, startTestCluster, type TestCluster } from '../support/multi-node';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface NodeState {
  metadata: { name: string };
  status?: {
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    conditions?: Condition[];
  };
}
interface ContainerStatus {
  name: string;
  containerID?: string;
  restartCount: number;
  state?: { running?: unknown };
}
interface PodState {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
  };
}

const NODES = [
  { name: 'small', cpu: '500m', memory: '256Mi' },
  { name: 'medium', cpu: '1', memory: '512Mi' },
  { name: 'large', cpu: '1500m', memory: '1Gi' },
] as const;
const NAMESPACE = 'default';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster({ name: 'e2e-nodes', nodes: NODES });
}, 180_000);

afterAll(async () => {
  await cluster?.close();
}, 120_000);

async function getNode(name: string): Promise<NodeState> {
  const result = await cluster.controlPlane.request('GET', `/api/v1/nodes/${name}`);
  expect(result.status).toBe(200);
  return result.json<NodeState>();
}

async function getPod(name: string): Promise<PodState | undefined> {
  const result = await cluster.controlPlane.request('GET', `/api/v1/namespaces/${NAMESPACE}/pods/${name}`);
  return result.status === 404 ? undefined : result.json<PodState>();
}

function podManifest(options: {
  name: string;
  command: string[];
  memory?: string;
  cpu?: string;
  nodeName?: string;
  restartPolicy?: 'Always' | 'Never';
}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: options.name, namespace: NAMESPACE },
    spec: {
      ...(options.nodeName ? { nodeName: options.nodeName } : {}),
      restartPolicy: options.restartPolicy ?? 'Always',
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'main',
          image: BASE_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          command: options.command,
          resources: {
            requests: { cpu: options.cpu ?? '50m', memory: options.memory ?? '16Mi' },
            limits: { cpu: options.cpu ?? '50m', memory: options.memory ?? '16Mi' },
          },
        },
      ],
    },
  };
}

async function createPod(manifest: Record<string, unknown>): Promise<void> {
  const result = await cluster.controlPlane.request('POST', `/api/v1/namespaces/${NAMESPACE}/pods`, {
    body: manifest,
  });
  expect(result.status).toBe(201);
}

function running(name: string, timeoutMs = 60_000): Promise<PodState> {
  return until(
    `pod ${name} to run`,
    async () => {
      const pod = await getPod(name);
      return pod?.status?.phase === 'Running' && pod.status.podIP ? pod : undefined;
    },
    timeoutMs,
  );
}

function bytes(quantity: string | undefined): number {
  return Number(Quantity.parse(quantity ?? '0').value());
}

describe('a three-node cluster', () => {
  it('registers every node Ready with the capacity of its own cgroup', async () => {
    const nodes = await Promise.all(NODES.map((spec) => getNode(spec.name)));
    for (const [index, node] of nodes.entries()) {
      const spec = NODES[index];
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(bytes(node.status?.capacity?.['memory'])).toBe(bytes(spec?.memory));
      expect(Number(Quantity.parse(node.status?.capacity?.['cpu'] ?? '0').milliValue())).toBe(
        Number(Quantity.parse(spec?.cpu ?? '0').milliValue()),
      );
    }
    const allocatable = nodes.map((node) => bytes(node.status?.allocatable?.['memory']));
    expect(allocatable[0]).toBeLessThan(allocatable[1] ?? 0);
    expect(allocatable[1]).toBeLessThan(allocatable[2] ?? 0);
  });

  it('places pods only where they fit, across nodes', async () => {
    // Only the large node has 600Mi to give.
    await createPod(podManifest({ name: 'fit-big', command: ['sleep', '3600'], memory: '600Mi' }));
    for (const name of ['fit-a', 'fit-b', 'fit-c']) {
      await createPod(podManifest({ name, command: ['sleep', '3600'], memory: '64Mi' }));
    }
    const big = await running('fit-big', 90_000);
    expect(big.spec.nodeName).toBe('large');
    const small = await Promise.all(['fit-a', 'fit-b', 'fit-c'].map((name) => running(name, 90_000)));
    expect(new Set(small.map((pod) => pod.spec.nodeName)).size).toBeGreaterThanOrEqual(2);
  });

  it('leaves a pod too big for every node Pending, saying why', async () => {
    await createPod(podManifest({ name: 'too-big', command: ['sleep', '3600'], memory: '2Gi' }));
    const condition = await until('too-big to be unschedulable', async () => {
      const pod = await getPod('too-big');
      const scheduled = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled');
      return scheduled?.status === 'False' ? scheduled : undefined;
    });
    expect(condition.reason).toBe('Unschedulable');
    expect(condition.message).toBe('0/3 nodes are available: 3 Insufficient memory.');
    expect((await getPod('too-big'))?.status?.phase).toBe('Pending');
  });

  it('lets a pod on one node reach a pod on another by its IP', async () => {
    await createPod(
      podManifest({
        name: 'web',
        nodeName: 'small',
        command: ['httpd', '-f', '-p', '8080', '-h', '/var/www'],
      }),
    );
    const web = await running('web');
    // busybox 1.35's wget crashes with -T (Debian's static build): bound each try with timeout instead.
    const fetch = `for i in $(seq 60); do timeout 3 wget -q -O /dev/null http://${web.status?.podIP ?? ''}:8080/ && exit 0; sleep 1; done; exit 1`;
    await createPod(
      podManifest({
        name: 'client',
        nodeName: 'medium',
        restartPolicy: 'Never',
        command: ['sh', '-c', fetch],
      }),
    );
    const finished = await until(
      'the client pod to finish',
      async () => {
        const pod = await getPod('client');
        return pod?.status?.phase === 'Succeeded' || pod?.status?.phase === 'Failed' ? pod : undefined;
      },
      90_000,
    );
    expect(finished.status?.phase).toBe('Succeeded');
    expect(finished.spec.nodeName).not.toBe(web.spec.nodeName);
  }, 180_000);

  it('keeps containers running through an agent restart and re-adopts them', async () => {
    const before = await running('web');
    const [container] = before.status?.containerStatuses ?? [];
    expect(container?.containerID).toBeTruthy();
    const node = cluster.node('small');
    await node.killAgent();
    await node.restartAgent();
    const after = await until('web to be reported again after the restart', async () => {
      const pod = await getPod('web');
      const status = pod?.status?.containerStatuses?.[0];
      return status?.state?.running !== undefined ? status : undefined;
    });
    expect(after.containerID).toBe(container?.containerID);
    expect(after.restartCount).toBe(container?.restartCount);
  });

  it('marks the pods of a node that disappears as lost, then evicts them', async () => {
    const node = cluster.node('small');
    await node.remove();
    const ready = await until(
      'the small node to go unreachable',
      async () => {
        const condition = (await getNode('small')).status?.conditions?.find((c) => c.type === 'Ready');
        return condition?.status === 'Unknown' ? condition : undefined;
      },
      60_000,
    );
    expect(ready.status).toBe('Unknown');
    await until(
      'the web pod on the lost node to be evicted',
      async () => {
        const pod = await getPod('web');
        return pod === undefined || pod.metadata.deletionTimestamp !== undefined;
      },
      60_000,
    );
  });
});
