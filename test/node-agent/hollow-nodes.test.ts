// Hollow nodes (kubemark's idea) against the real control plane: 20 HollowNodes of libs/node-agent, each
// its own NodeConnection with its own client certificate from the cluster CA, register over the
// apiserver's gRPC NodeService with mutual TLS and heartbeat until their Nodes are Ready; the real
// scheduler places 100 pods on them; the hollow pod engines report those pods Running through
// pods/status, and a deleted pod is released and removed as a real agent would have it.
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Node, Pod } from '@flotilla/api';
import { createClient, type RestClient } from '@flotilla/client';
import { HollowNode, issueHollowNodeCertificates } from '@flotilla/node-agent';
import { startScheduler, type RunningScheduler } from '@flotilla/scheduler';
import pino from 'pino';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { requireTestEnv, until } from '../support/eventually';

const redisUrl = requireTestEnv('FLOTILLA_TEST_REDIS');
const runId = randomBytes(4).toString('hex');
const namespace = `hollow-${runId}`;
const NODES = 20;
const PODS = 100;
const nodeNames = Array.from({ length: NODES }, (_, i) => `hollow-${runId}-${String(i).padStart(2, '0')}`);
const logger = pino({ level: process.env['FLOTILLA_TEST_LOG'] ?? 'silent' });

let plane: TestControlPlane;
let client: RestClient;
let scheduler: RunningScheduler | undefined;
const hollowNodes: HollowNode[] = [];

async function getJson<T>(path: string): Promise<T> {
  const result = await plane.request('GET', path);
  if (result.status !== 200) throw new Error(`GET ${path}: ${result.status} ${result.text}`);
  return result.json<T>();
}

async function post(path: string, body: object): Promise<void> {
  const result = await plane.request('POST', path, { body });
  if (result.status !== 201) throw new Error(`POST ${path}: ${result.status} ${result.text}`);
}

function isReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some(
    (condition) => condition.type === 'Ready' && condition.status === 'True',
  );
}

async function ourNodes(): Promise<Node[]> {
  const list = await getJson<{ items: Node[] }>('/api/v1/nodes');
  return list.items.filter((node) => nodeNames.includes(node.metadata.name ?? ''));
}

async function ourPods(): Promise<Pod[]> {
  return (await getJson<{ items: Pod[] }>(`/api/v1/namespaces/${namespace}/pods`)).items;
}

beforeAll(async () => {
  plane = await startTestControlPlane('hollow', { nodeService: true, heartbeatIntervalSeconds: 1 });
  client = createClient({ kubeconfig: plane.kubeconfigPath });
  await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

afterAll(async () => {
  await scheduler?.stop();
  await Promise.all(hollowNodes.map((node) => node.close()));
  client?.close();
  await plane?.stop();
});

describe('hollow nodes', () => {
  it('register over mutual TLS with their own certificates and become Ready Nodes', async () => {
    const certificates = await issueHollowNodeCertificates({
      dir: join(plane.dir, 'hollow-pki'),
      caCertFile: plane.caFile,
      caKeyFile: plane.caKeyFile,
      nodeNames,
    });
    expect(certificates.size).toBe(NODES);
    nodeNames.forEach((name, i) => {
      const tls = certificates.get(name);
      if (!tls) throw new Error(`no certificate for ${name}`);
      hollowNodes.push(
        new HollowNode({
          name,
          apiserver: `127.0.0.1:${plane.grpcPort ?? 0}`,
          tls,
          address: `10.200.0.${i + 1}`,
          logger,
          backoff: { initialMs: 100, maxMs: 1000 },
        }),
      );
    });
    await Promise.all(hollowNodes.map((node) => node.start()));
    const nodes = await until('every hollow Node to be Ready', async () => {
      const current = await ourNodes();
      return current.length === NODES && current.every(isReady) && current;
    });
    for (const node of nodes) {
      expect(node.status).toMatchObject({
        capacity: { cpu: '4', memory: '16Gi', pods: '110' },
        nodeInfo: { kernelVersion: 'hollow', operatingSystem: 'linux' },
      });
      expect(node.spec?.podCIDR).toMatch(/^10\.244\.\d{1,3}\.0\/24$/);
    }
    expect(new Set(nodes.map((node) => node.spec?.podCIDR)).size).toBe(NODES);
    expect(hollowNodes.every((node) => node.connected)).toBe(true);
  });

  it('run pods placed by the real scheduler and report them Running, spread across the nodes', async () => {
    scheduler = startScheduler({
      client,
      redisUrl,
      queueName: `hollow-${randomUUID()}`,
      resyncIntervalMs: 2000,
    });
    await scheduler.ready;
    for (let i = 0; i < PODS; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          post(`/api/v1/namespaces/${namespace}/pods`, {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: `web-${i + j}`, namespace, labels: { app: 'web' } },
            spec: {
              containers: [
                {
                  name: 'web',
                  image: 'flotilla/busybox:latest',
                  resources: { requests: { cpu: '100m', memory: '64Mi' } },
                },
              ],
            },
          }),
        ),
      );
    }
    const pods = await until(
      'every pod to be bound and Running',
      async () => {
        const current = await ourPods();
        return (
          current.length === PODS &&
          current.every((pod) => pod.spec.nodeName && pod.status?.phase === 'Running') &&
          current
        );
      },
      60_000,
    );
    const perNode = new Map<string, number>();
    for (const pod of pods) {
      const node = pod.spec.nodeName ?? '';
      expect(nodeNames).toContain(node);
      perNode.set(node, (perNode.get(node) ?? 0) + 1);
      const nodeIndex = nodeNames.indexOf(node);
      expect(pod.status).toMatchObject({
        hostIP: `10.200.0.${nodeIndex + 1}`,
        containerStatuses: [
          { name: 'web', ready: true, started: true, state: { running: expect.any(Object) } },
        ],
      });
      expect(pod.status?.podIP).toMatch(/^10\.244\.\d{1,3}\.\d{1,3}$/);
      const ready = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
      expect(ready?.status).toBe('True');
    }
    // Least-allocated scoring over 20 equal nodes: every node takes some of the 100 pods, none a pile.
    expect(perNode.size).toBe(NODES);
    expect(Math.max(...perNode.values())).toBeLessThanOrEqual(10);
    // The hollow engines hold exactly what was bound to them.
    for (const hollow of hollowNodes) {
      const running = (hollow.pods?.currentStatuses() ?? []).filter(
        (report) => report.status.phase === 'Running',
      );
      expect(running.length).toBe(perNode.get(hollow.name) ?? 0);
    }
  });

  it('stop and release a deleted pod, so the apiserver removes it', async () => {
    const victim = 'web-0';
    const before = await getJson<Pod>(`/api/v1/namespaces/${namespace}/pods/${victim}`);
    const hollow = hollowNodes.find((node) => node.name === before.spec.nodeName);
    const deleted = await plane.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${victim}`);
    expect([200, 202]).toContain(deleted.status);
    await until('the deleted pod to be gone', async () => {
      const result = await plane.request('GET', `/api/v1/namespaces/${namespace}/pods/${victim}`);
      return result.status === 404;
    });
    expect(hollow?.pods?.currentStatuses().some((report) => report.name === victim)).toBe(false);
    expect((await ourPods()).length).toBe(PODS - 1);
  });
});
