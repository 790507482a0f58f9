// The node protocol with the real pod engine behind it: a pod bound to the node through the API runs
// as a real container (createNodePods on a node of its own, from the pod engine's test fixture), its
// environment read from a ConfigMap over GetObject, its Running status lands in pods/status, and a
// deletion stops it and removes the object once the engine has released it. Needs root.
import { randomBytes } from 'node:crypto';
import type { Pod } from '@flotilla/api';
import { NodeConnection } from '@flotilla/node-agent';
import { RegisterRequest } from '@flotilla/proto';
import pino from 'pino';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { until } from '../support/eventually';
import { busybox, readAll, requireRoot, startTestNode, type TestNode } from './pods.fixture';

const runId = randomBytes(4).toString('hex');
const namespace = `protocol-engine-${runId}`;
const nodeName = `engine-${runId}`;

let plane: TestControlPlane;
let connection: NodeConnection | undefined;
let node: TestNode | undefined;

async function post(path: string, body: object): Promise<void> {
  const result = await plane.request('POST', path, { body });
  if (result.status !== 201) throw new Error(`POST ${path}: ${result.status} ${result.text}`);
}

async function getPod(name: string): Promise<Pod | undefined> {
  const result = await plane.request('GET', `/api/v1/namespaces/${namespace}/pods/${name}`);
  if (result.status === 404) return undefined;
  if (result.status !== 200) throw new Error(`GET pod ${name}: ${result.status} ${result.text}`);
  return result.json<Pod>();
}

beforeAll(async () => {
  requireRoot();
  plane = await startTestControlPlane('protocol-engine', { nodeService: true, heartbeatIntervalSeconds: 1 });
  const certificate = plane.nodeCertificate(nodeName);
  connection = new NodeConnection({
    apiserver: `127.0.0.1:${plane.grpcPort ?? 0}`,
    tls: { caFile: plane.caFile, certFile: certificate.certFile, keyFile: certificate.keyFile },
    registration: () =>
      Promise.resolve(
        RegisterRequest.fromPartial({
          nodeName,
          addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
          capacity: { cpu: '2', memory: '2Gi', pods: '110' },
          allocatable: { cpu: '2', memory: '2Gi', pods: '110' },
          agentEndpoint: '127.0.0.1:10250',
        }),
      ),
    logger: pino({ level: process.env['FLOTILLA_TEST_LOG'] ?? 'silent' }),
    backoff: { initialMs: 100, maxMs: 1000 },
  });
  await connection.register();
  // The engine keeps the fixture's own pod range (kept apart from other test files on this host).
  node = await startTestNode(7, { nodeName, resolveObject: connection.resolveObject });
  connection.start(node.engine);
  await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

afterAll(async () => {
  await connection?.close();
  await node?.cleanup();
  await plane?.stop();
});

describe('node protocol with the pod engine', () => {
  it('runs a bound pod, reports it Running, and removes it after a graceful deletion', async () => {
    await post(`/api/v1/namespaces/${namespace}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'greeting' },
      data: { message: 'hello from the API' },
    });
    await post(`/api/v1/namespaces/${namespace}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: {
        nodeName,
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: 'main',
            ...busybox,
            command: ['sh', '-c', 'echo "$MESSAGE"; exec sleep 3600'],
            env: [{ name: 'MESSAGE', valueFrom: { configMapKeyRef: { name: 'greeting', key: 'message' } } }],
          },
        ],
      },
    });
    const running = await until(
      'the pod to run',
      async () => {
        const pod = await getPod('web');
        return pod?.status?.phase === 'Running' && pod.status.containerStatuses?.[0]?.state?.running && pod;
      },
      60_000,
    );
    expect(running.status?.podIP).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(running.status?.containerStatuses?.[0]).toMatchObject({ name: 'main', restartCount: 0 });

    // The value came from the ConfigMap the engine read through GetObject.
    await until('the greeting in the log', async () => {
      const engine = node?.engine;
      if (!engine) return false;
      const stream = await engine.logs({
        namespace,
        pod: 'web',
        follow: false,
        previous: false,
        timestamps: false,
      });
      return (await readAll(stream)).includes('hello from the API');
    });

    const deleted = await plane.request('DELETE', `/api/v1/namespaces/${namespace}/pods/web`);
    expect(deleted.status).toBe(202);
    await until('the pod object to be removed', async () => (await getPod('web')) === undefined, 60_000);
    // The DELETE the server then streams makes the engine forget the pod.
    await until('the engine to forget the pod', () =>
      Promise.resolve(node?.engine.currentStatuses().every((status) => status.name !== 'web')),
    );
  });
});
