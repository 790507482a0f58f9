// Services on a real three-node cluster (test/support/multi-node.ts): a Deployment of busybox httpd
// replicas spread over the nodes behind a NodePort Service. The cluster IP answers from a pod on
// another node and from a node itself, the node port answers on every node's address from the host,
// and both spread connections over more than one backend (backends on other nodes included, through
// host-gw routes and masquerade). A pod made unready leaves the rotation; with no replicas left the
// node port refuses connections at once.
import { execFile } from 'node:child_process';
import { until } from '../support/eventually';
import { BASE_IMAGE, startTestCluster, type TestCluster } from '../support/multi-node';
import { httpGetOrError } from '../support/http-get';

const NAMESPACE = 'default';
const NODES = [
  { name: 'svc-a', cpu: '1', memory: '512Mi' },
  { name: 'svc-b', cpu: '1', memory: '512Mi' },
  { name: 'svc-c', cpu: '1', memory: '512Mi' },
] as const;

interface ServiceState {
  spec: { clusterIP?: string; ports: { port: number; nodePort?: number }[] };
}
interface EndpointsState {
  subsets?: {
    addresses?: { ip: string; targetRef?: { name?: string } }[];
    notReadyAddresses?: { ip: string }[];
  }[];
}
interface PodState {
  metadata: { name: string };
  spec: { nodeName?: string };
  status?: { phase?: string; podIP?: string };
}

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster({ name: 'e2e-services', nodes: NODES });
}, 180_000);

afterAll(async () => {
  await cluster?.close();
}, 120_000);

async function api<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
  const result = await cluster.controlPlane.request(method, path, {
    ...(body !== undefined ? { body } : {}),
    ...(contentType ? { contentType } : {}),
  });
  if (result.status >= 300) throw new Error(`${method} ${path}: ${result.status} ${result.text}`);
  return result.json<T>();
}

async function backendsSeen(host: string, port: number, tries: number): Promise<string[]> {
  const answers: string[] = [];
  for (let attempt = 0; attempt < tries; attempt++) answers.push(await httpGetOrError(host, port));
  return answers;
}

function kubectl(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      '/usr/bin/kubectl',
      ['--kubeconfig', cluster.kubeconfigPath, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    );
  });
}

async function readyAddresses(): Promise<string[]> {
  const endpoints = await api<EndpointsState>('GET', `/api/v1/namespaces/${NAMESPACE}/endpoints/web`).catch(
    () => ({}) as EndpointsState,
  );
  return (endpoints.subsets ?? []).flatMap((subset) => (subset.addresses ?? []).map((address) => address.ip));
}

describe('Services across three nodes', () => {
  let service: ServiceState;
  let pods: PodState[];

  beforeAll(async () => {
    await api('POST', `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'httpd',
                image: BASE_IMAGE,
                // Each replica answers with its own name; /www/ready is what readiness checks.
                command: [
                  'sh',
                  '-c',
                  'mkdir -p /www && hostname > /www/index.html && touch /www/ready && exec httpd -f -p 8080 -h /www',
                ],
                ports: [{ name: 'http', containerPort: 8080 }],
                resources: { requests: { cpu: '20m', memory: '16Mi' }, limits: { memory: '32Mi' } },
                readinessProbe: { exec: { command: ['test', '-f', '/www/ready'] }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    });
    service = await api<ServiceState>('POST', `/api/v1/namespaces/${NAMESPACE}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      // A named target port: the endpoints controller resolves it per pod.
      spec: {
        type: 'NodePort',
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      },
    });
    await until(
      'three ready endpoints',
      async () => ((await readyAddresses()).length === 3 ? true : undefined),
      120_000,
    );
    const list = await api<{ items: PodState[] }>(
      'GET',
      `/api/v1/namespaces/${NAMESPACE}/pods?labelSelector=app%3Dweb`,
    );
    pods = list.items;
  }, 180_000);

  it('allocates a cluster IP and a node port', () => {
    expect(service.spec.clusterIP).toMatch(/^10\.(9[6-9]|10\d|11[01])\./);
    expect(service.spec.ports[0]?.nodePort).toBeGreaterThanOrEqual(30000);
  });

  it('answers on every node address at the node port, spreading over more than one backend', async () => {
    const nodePort = service.spec.ports[0]?.nodePort ?? 0;
    const names = new Set(pods.map((pod) => pod.metadata.name));
    for (const node of cluster.nodes) {
      // The first answers may come before the node's rules are written: wait for one, then count.
      await until(
        `${node.name} to answer on its node port`,
        async () => names.has(await httpGetOrError(node.address, nodePort)),
        30_000,
      );
      // The Endpoints had all 3 ready, but this node may still hold rules from when it had one: the
      // next sync (debounced) brings the rest.
      const answers = await until(
        `${node.name} to spread over more than one backend`,
        async () => {
          const seen = await backendsSeen(node.address, nodePort, 30);
          return new Set(seen).size > 1 ? seen : undefined;
        },
        30_000,
      );
      for (const answer of answers) expect(names.has(answer)).toBe(true);
    }
  }, 120_000);

  it('answers at the cluster IP from a pod on another node and from a node itself', async () => {
    const clusterIp = service.spec.clusterIP ?? '';
    const clientNode = NODES[0].name;
    const fetch =
      `for i in $(seq 60); do timeout 3 wget -q -O - http://${clusterIp}/ >/dev/null && break; sleep 1; done; ` +
      `for i in $(seq 20); do timeout 3 wget -q -O - http://${clusterIp}/; done`;
    await api('POST', `/api/v1/namespaces/${NAMESPACE}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'svc-client' },
      spec: {
        nodeName: clientNode,
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'client', image: BASE_IMAGE, command: ['sh', '-c', fetch] }],
      },
    });
    const finished = await until(
      'the client pod to finish',
      async () => {
        const pod = await api<PodState>('GET', `/api/v1/namespaces/${NAMESPACE}/pods/svc-client`);
        return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' ? pod : undefined;
      },
      120_000,
    );
    expect(finished.status?.phase).toBe('Succeeded');
    const log = await cluster.controlPlane.request(
      'GET',
      `/api/v1/namespaces/${NAMESPACE}/pods/svc-client/log`,
    );
    const answers = log.text.split('\n').filter((line) => line !== '');
    const names = new Set(pods.map((pod) => pod.metadata.name));
    expect(answers.length).toBeGreaterThanOrEqual(20);
    for (const answer of answers) expect(names.has(answer)).toBe(true);
    expect(new Set(answers).size).toBeGreaterThan(1);
    // Some backend runs elsewhere than the client: the cluster IP crossed nodes.
    expect(pods.some((pod) => pod.spec.nodeName !== clientNode)).toBe(true);

    const fromNode = await cluster.node(NODES[1].name).host.run({
      command: '/bin/busybox',
      args: ['wget', '-q', '-O', '-', `http://${clusterIp}/`],
      timeoutMs: 10_000,
    });
    expect(fromNode.exitCode).toBe(0);
    expect(names.has(fromNode.stdout.trim())).toBe(true);
  }, 180_000);

  it('takes a pod that stops being ready out of the rotation', async () => {
    const [leaving] = pods;
    if (!leaving) throw new Error('no web pod');
    await kubectl('exec', '-n', NAMESPACE, leaving.metadata.name, '--', 'rm', '/www/ready');
    await until(
      `${leaving.metadata.name} to leave the ready endpoints`,
      async () => {
        const ready = await readyAddresses();
        return ready.length === 2 && !ready.includes(leaving.status?.podIP ?? '') ? true : undefined;
      },
      60_000,
    );
    const nodePort = service.spec.ports[0]?.nodePort ?? 0;
    const address = cluster.nodes[0]?.address ?? '';
    // Every node has written the new set once a fresh connection never reaches the pod 30 times in a row.
    await until(
      'the node rules to drop the unready pod',
      async () => !(await backendsSeen(address, nodePort, 30)).includes(leaving.metadata.name),
      30_000,
    );
    const answers = await backendsSeen(address, nodePort, 30);
    expect(answers).not.toContain(leaving.metadata.name);
    expect(new Set(answers).size).toBe(2);
  }, 120_000);

  it('refuses connections at once when no replica is left', async () => {
    await api(
      'PATCH',
      `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/web/scale`,
      { spec: { replicas: 0 } },
      'application/merge-patch+json',
    );
    await until(
      'the endpoints to empty',
      async () => ((await readyAddresses()).length === 0 ? true : undefined),
      60_000,
    );
    const nodePort = service.spec.ports[0]?.nodePort ?? 0;
    for (const node of cluster.nodes) {
      const answer = await until(
        `${node.name} to refuse`,
        async () => {
          const got = await httpGetOrError(node.address, nodePort);
          return got === 'ECONNREFUSED' ? got : undefined;
        },
        30_000,
      );
      expect(answer).toBe('ECONNREFUSED');
    }
  }, 120_000);
});
