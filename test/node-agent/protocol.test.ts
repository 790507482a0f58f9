// The node protocol end to end: agents (the real NodeConnection of libs/node-agent) dial the real
// apiserver's gRPC NodeService over mutual TLS with certificates from the test cluster's CA, on a real
// etcd. Behind each agent sits a small NodePods of this file that records what the connection hands
// it and emits statuses when told: a separate component on the other side of the seam, not the pod
// engine (its own tests run real containers). Routes go to a recording table: no kernel routes here.
import { randomBytes } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Node, Pod, PodStatus } from '@flotilla/api';
import { type CertificatePaths } from '@flotilla/cluster';
import {
  NodeConnection,
  NodePodsError,
  NodeRegistrationError,
  type ConnectionState,
  type NodePods,
  type NodeUsageSample,
  type PeerRouteTable,
  type PodStatusReport,
} from '@flotilla/node-agent';
import { RegisterRequest } from '@flotilla/proto';
import pino from 'pino';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { eventually, until } from '../support/eventually';

const runId = randomBytes(4).toString('hex');
const namespace = `protocol-${runId}`;
const nodeA = `a-${runId}`;
const nodeB = `b-${runId}`;
const nodeC = `c-${runId}`;
const logger = pino({ level: process.env['FLOTILLA_TEST_LOG'] ?? 'silent' });

type Call = { op: 'replace'; pods: Pod[] } | { op: 'upsert'; pod: Pod } | { op: 'remove'; uid: string };

/** The other side of the NodePods seam for these tests: records calls, emits statuses on demand. */
class RecordingNodePods implements NodePods {
  readonly calls: Call[] = [];
  private readonly listeners = new Set<(report: PodStatusReport) => void>();
  private readonly statuses = new Map<string, PodStatusReport>();

  replaceDesired(pods: readonly Pod[]): void {
    this.calls.push({ op: 'replace', pods: [...pods] });
  }
  upsertDesired(pod: Pod): void {
    this.calls.push({ op: 'upsert', pod });
  }
  removeDesired(uid: string): void {
    this.calls.push({ op: 'remove', uid });
  }
  onStatus(listener: (report: PodStatusReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  currentStatuses(): PodStatusReport[] {
    return [...this.statuses.values()];
  }
  /** A status change, as the pod engine reports one. */
  emit(report: PodStatusReport): void {
    this.statuses.set(report.uid, report);
    for (const listener of this.listeners) listener(report);
  }
  usage(): Promise<NodeUsageSample> {
    return Promise.resolve({
      time: new Date().toISOString(),
      nodeCpuUsageNanos: 123_000_000n,
      nodeMemoryWorkingSetBytes: 64 * 1024 * 1024,
      pods: [
        {
          namespace,
          name: 'usage',
          uid: 'u-usage',
          containers: [{ name: 'main', cpuUsageNanos: 42n, memoryWorkingSetBytes: 1024 }],
        },
      ],
    });
  }
  logs(): Promise<never> {
    return Promise.reject(new NodePodsError('NotFound', 'this test node runs no containers'));
  }
  exec(): Promise<never> {
    return Promise.reject(new NodePodsError('NotFound', 'this test node runs no containers'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  replaced(): Pod[][] {
    return this.calls.flatMap((call) => (call.op === 'replace' ? [call.pods] : []));
  }
  upserted(name: string): Pod[] {
    return this.calls.flatMap((call) =>
      call.op === 'upsert' && call.pod.metadata.name === name ? [call.pod] : [],
    );
  }
  removed(uid: string): boolean {
    return this.calls.some((call) => call.op === 'remove' && call.uid === uid);
  }
}

class RecordingRoutes implements PeerRouteTable {
  readonly routes = new Map<string, string>();
  addPeerRoute(route: { subnet: string; via: string }): Promise<void> {
    this.routes.set(route.subnet, route.via);
    return Promise.resolve();
  }
  removePeerRoute(subnet: string): Promise<void> {
    this.routes.delete(subnet);
    return Promise.resolve();
  }
}

interface TestAgent {
  name: string;
  ip: string;
  connection: NodeConnection;
  pods: RecordingNodePods;
  routes: RecordingRoutes;
  states: ConnectionState[];
}

let plane: TestControlPlane;
const agents: TestAgent[] = [];

function nodeCertificate(name: string): CertificatePaths {
  return plane.nodeCertificate(name);
}

function registration(name: string, ip: string): RegisterRequest {
  return RegisterRequest.fromPartial({
    nodeName: name,
    addresses: [
      { type: 'InternalIP', address: ip },
      { type: 'Hostname', address: name },
    ],
    capacity: { cpu: '2', memory: '4Gi', pods: '110' },
    allocatable: { cpu: '1900m', memory: '3840Mi', pods: '110' },
    info: {
      kernelVersion: '6.1.0-test',
      operatingSystem: 'linux',
      architecture: 'amd64',
      agentVersion: '0.1.0',
    },
    agentEndpoint: `${ip}:10250`,
  });
}

function newAgent(name: string, ip: string, options: { certificateOf?: string } = {}): TestAgent {
  const certificate = nodeCertificate(options.certificateOf ?? name);
  const routes = new RecordingRoutes();
  const agent: TestAgent = {
    name,
    ip,
    pods: new RecordingNodePods(),
    routes,
    states: [],
    connection: new NodeConnection({
      apiserver: `127.0.0.1:${plane.grpcPort ?? 0}`,
      tls: { caFile: plane.caFile, certFile: certificate.certFile, keyFile: certificate.keyFile },
      registration: () => Promise.resolve(registration(name, ip)),
      logger,
      metricsIntervalMs: 200,
      backoff: { initialMs: 100, maxMs: 1000 },
      peerRoutes: routes,
    }),
  };
  agent.connection.onState((state) => agent.states.push(state));
  agents.push(agent);
  return agent;
}

async function startAgent(name: string, ip: string): Promise<TestAgent> {
  const agent = newAgent(name, ip);
  await agent.connection.register();
  agent.connection.start(agent.pods);
  await eventually(() => agent.states.includes('connected'), `${name} to connect`);
  return agent;
}

async function getJson<T>(path: string): Promise<T | undefined> {
  const result = await plane.request('GET', path);
  if (result.status === 404) return undefined;
  if (result.status !== 200) throw new Error(`GET ${path}: ${result.status} ${result.text}`);
  return result.json<T>();
}

async function post(path: string, body: object): Promise<Record<string, unknown>> {
  const result = await plane.request('POST', path, { body });
  if (result.status !== 201) throw new Error(`POST ${path}: ${result.status} ${result.text}`);
  return result.json();
}

async function createPod(name: string, spec: Record<string, unknown> = {}): Promise<Pod> {
  return (await post(`/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { containers: [{ name: 'main', image: 'busybox' }], ...spec },
  })) as unknown as Pod;
}

const podPath = (name: string): string => `/api/v1/namespaces/${namespace}/pods/${name}`;

function report(pod: Pod, status: PodStatus, released = false): PodStatusReport {
  return {
    namespace,
    name: pod.metadata.name ?? '',
    uid: pod.metadata.uid ?? '',
    status,
    released,
  };
}

/** Watches one pod from a resourceVersion and collects its events until `done` holds for one. */
function watchPod(name: string, fromVersion: string, done: (pod: Pod) => boolean): Promise<Pod[]> {
  return new Promise((resolve, reject) => {
    const seen: Pod[] = [];
    const url =
      `${plane.url}/api/v1/namespaces/${namespace}/pods?watch=1&resourceVersion=${fromVersion}` +
      `&fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
    const req = httpsRequest(
      url,
      { headers: { Authorization: `Bearer ${plane.token}` }, ca: readFileSync(plane.caFile) },
      (res) => {
        let buffer = '';
        res.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('utf8');
          let newline: number;
          while ((newline = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            if (line.trim() === '') continue;
            const pod = (JSON.parse(line) as { object: Pod }).object;
            seen.push(pod);
            if (done(pod)) {
              req.destroy();
              resolve(seen);
              return;
            }
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end();
  });
}

beforeAll(async () => {
  plane = await startTestControlPlane('protocol', { nodeService: true, heartbeatIntervalSeconds: 1 });
  await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.connection.close()));
  await plane?.stop();
});

describe('node protocol', () => {
  let a: TestAgent;
  let b: TestAgent;

  it('Register creates the Node with its capacity, addresses, endpoint, labels and a pod CIDR', async () => {
    a = await startAgent(nodeA, '127.0.0.2');
    const podCidr = a.connection.registration?.podCidr ?? '';
    expect(podCidr).toMatch(/^10\.244\.\d{1,3}\.0\/24$/);
    expect(a.connection.registration).toMatchObject({
      heartbeatIntervalSeconds: 1,
      clusterCidr: '10.244.0.0/16',
      serviceCidr: '10.96.0.0/12',
    });
    const node = await getJson<Node>(`/api/v1/nodes/${nodeA}`);
    expect(node?.metadata.labels).toEqual({
      'kubernetes.io/hostname': nodeA,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
    });
    expect(node?.spec).toEqual({ podCIDR: podCidr, podCIDRs: [podCidr] });
    expect(node?.status).toMatchObject({
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '1900m', memory: '3840Mi', pods: '110' },
      addresses: [
        { type: 'InternalIP', address: '127.0.0.2' },
        { type: 'Hostname', address: nodeA },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: { kernelVersion: '6.1.0-test', kubeletVersion: '0.1.0', operatingSystem: 'linux' },
    });
  });

  it('gives two agents different pod CIDRs and each keeps its own when it registers again', async () => {
    b = await startAgent(nodeB, '127.0.0.3');
    const cidrA = a.connection.registration?.podCidr;
    const cidrB = b.connection.registration?.podCidr;
    expect(cidrB).toMatch(/^10\.244\.\d{1,3}\.0\/24$/);
    expect(cidrB).not.toBe(cidrA);
    expect((await a.connection.register()).podCidr).toBe(cidrA);
    expect((await b.connection.register()).podCidr).toBe(cidrB);
    const node = await getJson<Node>(`/api/v1/nodes/${nodeB}`);
    expect(node?.spec?.podCIDR).toBe(cidrB);
  });

  it("routes each agent to the other nodes' pod CIDRs", async () => {
    const cidrA = a.connection.registration?.podCidr ?? '';
    const cidrB = b.connection.registration?.podCidr ?? '';
    await eventually(() => a.routes.routes.get(cidrB) === '127.0.0.3', `${nodeA} to route to ${cidrB}`);
    await eventually(() => b.routes.routes.get(cidrA) === '127.0.0.2', `${nodeB} to route to ${cidrA}`);
    expect(a.routes.routes.has(cidrA)).toBe(false);
  });

  it('turns heartbeats into the Node conditions and a renewed Lease in kube-node-lease', async () => {
    const node = await until('the Ready condition', async () => {
      const current = await getJson<Node>(`/api/v1/nodes/${nodeA}`);
      return current?.status?.conditions?.some((condition) => condition.type === 'Ready') && current;
    });
    const byType = new Map((node.status?.conditions ?? []).map((condition) => [condition.type, condition]));
    expect([...byType.keys()].sort()).toEqual(['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
    expect(byType.get('Ready')).toMatchObject({ status: 'True', reason: 'AgentReady' });
    expect(byType.get('MemoryPressure')).toMatchObject({ status: 'False' });
    for (const condition of byType.values()) {
      expect(Date.parse(condition.lastHeartbeatTime ?? '')).not.toBeNaN();
      expect(Date.parse(condition.lastTransitionTime ?? '')).not.toBeNaN();
    }
    type Lease = {
      metadata: { ownerReferences?: Array<{ kind: string; name: string }> };
      spec: Record<string, unknown>;
    };
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeA}`;
    const lease = await until('the node Lease', () => getJson<Lease>(leasePath));
    expect(lease.spec).toMatchObject({ holderIdentity: nodeA, leaseDurationSeconds: 40 });
    expect(lease.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Node', name: nodeA })]);
    const renewed = await until('the Lease to be renewed', async () => {
      const current = await getJson<Lease>(leasePath);
      return current && current.spec['renewTime'] !== lease.spec['renewTime'] && current;
    });
    expect(Date.parse(String(renewed.spec['renewTime']))).toBeGreaterThan(
      Date.parse(String(lease.spec['renewTime'])),
    );
  });

  it('keeps the two latest usage samples each node sends', async () => {
    const window = await until('two metrics samples of node a', async () => {
      const windows = await plane.apiserver.usageSamples.nodes([nodeA]);
      const found = windows.get(nodeA);
      return found?.previous && found;
    });
    expect(window.latest).toMatchObject({
      nodeName: nodeA,
      cpuNanos: 123_000_000n,
      memoryWorkingSetBytes: 64n * 1024n * 1024n,
    });
    const pods = await plane.apiserver.usageSamples.pods([{ namespace, name: 'usage' }]);
    expect(pods.get(`${namespace}/usage`)?.latest).toMatchObject({
      namespace,
      name: 'usage',
      uid: 'u-usage',
      // Every agent of this file reports the same pod: whichever reported last holds the list.
      nodeName: expect.stringMatching(/^[ab]-/),
      containers: [{ name: 'main', cpuNanos: 42n, memoryWorkingSetBytes: 1024n }],
    });
  });

  describe('desired pods and their statuses', () => {
    let c: TestAgent;
    let early: Pod;
    let bound: Pod;

    it('sends the full desired set on connect', async () => {
      early = await createPod('early', { nodeName: nodeC });
      await createPod('elsewhere', { nodeName: nodeA });
      c = await startAgent(nodeC, '127.0.0.4');
      await eventually(() => c.pods.replaced().length > 0, 'the full set');
      expect(c.pods.replaced()[0]?.map((pod) => pod.metadata.uid)).toEqual([early.metadata.uid]);
    });

    it('sends a pod bound through the binding subresource as a change', async () => {
      const created = await createPod('bound');
      await post(`${podPath('bound')}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: 'bound' },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeC },
      });
      await eventually(() => c.pods.upserted('bound').length > 0, 'the bound pod');
      bound = c.pods.upserted('bound')[0] as Pod;
      expect(bound.metadata.uid).toBe(created.metadata.uid);
      expect(bound.spec?.nodeName).toBe(nodeC);
    });

    it('writes reported statuses to pods/status', async () => {
      c.pods.emit(
        report(bound, {
          phase: 'Running',
          podIP: '10.244.9.7',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [
            {
              name: 'main',
              ready: true,
              restartCount: 0,
              image: 'busybox',
              imageID: '',
              state: { running: { startedAt: '2026-11-23T10:00:00Z' } },
            },
          ],
        }),
      );
      const pod = await until('the Running status', async () => {
        const current = await getJson<Pod>(podPath('bound'));
        return current?.status?.phase === 'Running' && current;
      });
      expect(pod.status).toMatchObject({
        podIP: '10.244.9.7',
        containerStatuses: [expect.objectContaining({ name: 'main', ready: true })],
      });
    });

    it('ignores a status for an older pod of the same name (conditional on uid)', async () => {
      const live = (await getJson<Pod>(podPath('bound'))) as Pod;
      const watched = watchPod(
        'bound',
        live.metadata.resourceVersion ?? '0',
        (pod) => pod.status?.message === 'second',
      );
      c.pods.emit({ ...report(bound, { phase: 'Failed', message: 'stale' }), uid: 'some-older-uid' });
      c.pods.emit(report(bound, { phase: 'Running', message: 'second' }));
      const seen = await watched;
      expect(seen.map((pod) => pod.status?.message)).not.toContain('stale');
      expect(seen.at(-1)?.status?.phase).toBe('Running');
    });

    it('refuses a status from a node the pod is not bound to, with a Warning event', async () => {
      const other = await createPod('others', { nodeName: nodeA });
      c.pods.emit(report(other, { phase: 'Failed', message: 'not yours' }));
      type EventList = {
        items: Array<{ reason?: string; message?: string; involvedObject: { name?: string } }>;
      };
      const event = await until('the refusal event', async () => {
        const events = await getJson<EventList>(`/api/v1/namespaces/${namespace}/events`);
        return events?.items.find(
          (item) => item.reason === 'NodeStatusRefused' && item.involvedObject.name === 'others',
        );
      });
      expect(event.message).toContain(
        `node ${nodeC} reported the status of this pod, which is bound to ${nodeA}`,
      );
      expect((await getJson<Pod>(podPath('others')))?.status?.phase).toBe('Pending');
    });

    it('sends a deletion as an update, removes the pod once it is released, then sends DELETE', async () => {
      const deleted = await plane.request('DELETE', podPath('bound'));
      expect(deleted.status).toBe(202);
      await eventually(
        () => c.pods.upserted('bound').some((pod) => pod.metadata.deletionTimestamp),
        'the deletion',
      );
      expect((await getJson<Pod>(podPath('bound')))?.metadata.deletionTimestamp).toBeDefined();
      c.pods.emit(report(bound, { phase: 'Succeeded' }, true));
      await until('the pod to be removed', async () => (await getJson<Pod>(podPath('bound'))) === undefined);
      await eventually(() => c.pods.removed(bound.metadata.uid ?? ''), 'DELETE of the removed pod');
    });

    it('keeps a released pod that is not being deleted (its status only)', async () => {
      c.pods.emit(report(early, { phase: 'Succeeded', message: 'done' }, true));
      const pod = await until('the final status', async () => {
        const current = await getJson<Pod>(podPath('early'));
        return current?.status?.phase === 'Succeeded' && current;
      });
      expect(pod.metadata.deletionTimestamp).toBeUndefined();
    });

    it('serves the ConfigMaps and Secrets of pods bound to the node, and nothing else', async () => {
      await post(`/api/v1/namespaces/${namespace}/configmaps`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings' },
        data: { mode: 'fast' },
      });
      await post(`/api/v1/namespaces/${namespace}/configmaps`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'private' },
        data: { key: 'value' },
      });
      await createPod('configured', {
        nodeName: nodeC,
        containers: [
          {
            name: 'main',
            image: 'busybox',
            envFrom: [{ configMapRef: { name: 'settings' } }],
            env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'missing', key: 'token' } } }],
          },
        ],
      });
      const settings = await until('the referenced ConfigMap', () =>
        c.connection.resolveObject({ kind: 'ConfigMap', namespace, name: 'settings' }).catch(() => undefined),
      );
      expect(settings).toMatchObject({ kind: 'ConfigMap', data: { mode: 'fast' } });
      await expect(
        c.connection.resolveObject({ kind: 'Secret', namespace, name: 'missing' }),
      ).resolves.toBeUndefined();
      await expect(
        c.connection.resolveObject({ kind: 'ConfigMap', namespace, name: 'private' }),
      ).rejects.toThrow(`node ${nodeC} may read only the ConfigMaps and Secrets of pods bound to it`);
      await expect(
        a.connection.resolveObject({ kind: 'ConfigMap', namespace, name: 'settings' }),
      ).rejects.toThrow('PERMISSION_DENIED');
    });
  });

  it('refuses a certificate of one node registering another', async () => {
    const impostor = newAgent(`impostor-${runId}`, '127.0.0.9', { certificateOf: nodeA });
    await expect(impostor.connection.register()).rejects.toThrow(NodeRegistrationError);
    await expect(impostor.connection.register()).rejects.toThrow(
      `the certificate of node ${nodeA} may not register node "impostor-${runId}"`,
    );
    expect(await getJson<Node>(`/api/v1/nodes/impostor-${runId}`)).toBeUndefined();
  });

  it('reconnects after the apiserver restarts, gets the desired set again and re-sends statuses', async () => {
    const elsewhere = (await getJson<Pod>(podPath('elsewhere'))) as Pod;
    const connects = a.states.filter((state) => state === 'connected').length;
    const fullSets = a.pods.replaced().length;
    const restarting = plane.restartApiServer();
    // Emitted as the server goes away: it reaches the apiserver with the statuses re-sent on reconnect.
    a.pods.emit(report(elsewhere, { phase: 'Running', message: 'while restarting' }));
    await restarting;
    const pod = await createPod('after-restart', { nodeName: nodeA });
    await eventually(
      () => a.states.filter((state) => state === 'connected').length > connects,
      'a reconnect',
      30_000,
    );
    expect(a.pods.replaced().length).toBeGreaterThan(fullSets);
    await eventually(
      () =>
        a.pods
          .replaced()
          .at(-1)
          ?.some((desired) => desired.metadata.uid === pod.metadata.uid) === true ||
        a.pods.upserted('after-restart').length > 0,
      'the pod created after the restart',
    );
    await until(
      'the status emitted during the restart',
      async () => (await getJson<Pod>(podPath('elsewhere')))?.status?.message === 'while restarting',
    );
  });

  it('registers again when its Node object is deleted under a live stream', async () => {
    const before = (await getJson<Node>(`/api/v1/nodes/${nodeA}`)) as Node;
    const deleted = await plane.request('DELETE', `/api/v1/nodes/${nodeA}`);
    expect(deleted.status).toBe(200);
    const again = await until('node a to register again', async () => {
      const node = await getJson<Node>(`/api/v1/nodes/${nodeA}`);
      return node && node.metadata.uid !== before.metadata.uid && node;
    });
    expect(again.spec?.podCIDR).toMatch(/^10\.244\.\d{1,3}\.0\/24$/);
    await until('the new Node to be Ready', async () => {
      const node = await getJson<Node>(`/api/v1/nodes/${nodeA}`);
      return node?.status?.conditions?.some(
        (condition) => condition.type === 'Ready' && condition.status === 'True',
      );
    });
  });

  it('stops routing to a node whose Node object is deleted', async () => {
    const cidrB = b.connection.registration?.podCidr ?? '';
    await b.connection.close();
    const deleted = await plane.request('DELETE', `/api/v1/nodes/${nodeB}`);
    expect(deleted.status).toBe(200);
    await eventually(() => !a.routes.routes.has(cidrB), `${nodeA} to drop the route to ${cidrB}`);
  });
});
