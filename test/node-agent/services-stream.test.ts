// Services and Endpoints down the node stream into the agents' service tables: real apiserver, real
// etcd, the real NodeConnection and ServiceTable on two agents, with the kernel side (ServiceProxy)
// replaced by a recorder (its own tests program real namespaces). Every agent gets every Service,
// the rules follow the Endpoints, a late agent starts from the whole set, and after an apiserver
// restart the agents' tables are rebuilt from the new stream.
import { randomBytes } from 'node:crypto';
import {
  NodeConnection,
  NodePodsError,
  ServiceTable,
  type ConnectionState,
  type NodePods,
  type PodStatusReport,
  type ServiceRuleSink,
} from '@flotilla/node-agent';
import { RegisterRequest } from '@flotilla/proto';
import type { ServiceRule } from '@flotilla/runtime';
import pino from 'pino';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { eventually, until } from '../support/eventually';

const runId = randomBytes(4).toString('hex');
const namespace = `svc-stream-${runId}`;
const logger = pino({ level: process.env['FLOTILLA_TEST_LOG'] ?? 'silent' });

/** A node without containers: these tests look at services only. */
class IdleNodePods implements NodePods {
  replaceDesired(): void {}
  upsertDesired(): void {}
  removeDesired(): void {}
  onStatus(): () => void {
    return () => undefined;
  }
  currentStatuses(): PodStatusReport[] {
    return [];
  }
  usage(): Promise<never> {
    return Promise.reject(new NodePodsError('NotFound', 'no usage on this test node'));
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
}

class RecordingProxy implements ServiceRuleSink {
  latest: readonly ServiceRule[] | undefined;
  writes = 0;
  sync(rules: readonly ServiceRule[]): Promise<void> {
    this.latest = rules;
    this.writes++;
    return Promise.resolve();
  }
}

interface TestAgent {
  connection: NodeConnection;
  table: ServiceTable;
  proxy: RecordingProxy;
  states: ConnectionState[];
}

let plane: TestControlPlane;
const agents: TestAgent[] = [];

beforeAll(async () => {
  plane = await startTestControlPlane('services-stream', { nodeService: true, heartbeatIntervalSeconds: 1 });
  const made = await plane.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  });
  expect(made.status).toBe(201);
});

afterAll(async () => {
  for (const agent of agents) {
    await agent.connection.close();
    await agent.table.close();
  }
  await plane?.stop();
});

async function startAgent(name: string, ip: string): Promise<TestAgent> {
  const certificate = plane.nodeCertificate(name);
  const proxy = new RecordingProxy();
  const table = new ServiceTable({ proxy, debounceMs: 20 });
  const agent: TestAgent = {
    proxy,
    table,
    states: [],
    connection: new NodeConnection({
      apiserver: `127.0.0.1:${plane.grpcPort ?? 0}`,
      tls: { caFile: plane.caFile, certFile: certificate.certFile, keyFile: certificate.keyFile },
      registration: () =>
        Promise.resolve(
          RegisterRequest.fromPartial({
            nodeName: name,
            addresses: [{ type: 'InternalIP', address: ip }],
            capacity: { cpu: '2', memory: '2Gi', pods: '110' },
            allocatable: { cpu: '2', memory: '2Gi', pods: '110' },
            agentEndpoint: `${ip}:10250`,
          }),
        ),
      logger,
      metricsIntervalMs: 60_000,
      backoff: { initialMs: 100, maxMs: 1000 },
      services: table,
    }),
  };
  agent.connection.onState((state) => agent.states.push(state));
  agents.push(agent);
  await agent.connection.register();
  agent.connection.start(new IdleNodePods());
  await eventually(() => agent.states.includes('connected'), `${name} to connect`);
  return agent;
}

function rulesOf(agent: TestAgent): Promise<readonly ServiceRule[]> {
  return until('a rule write', async () => {
    await agent.table.flush();
    return agent.proxy.latest;
  });
}

async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const result = await plane.request(method, path, body === undefined ? {} : { body });
  if (result.status >= 300) throw new Error(`${method} ${path}: ${result.status} ${result.text}`);
  return result.json();
}

function endpoints(...ips: string[]): object {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'web', namespace },
    subsets:
      ips.length === 0
        ? []
        : [{ addresses: ips.map((ip) => ({ ip })), ports: [{ name: 'http', port: 8080 }] }],
  };
}

describe('Services and Endpoints through the node stream', () => {
  let a: TestAgent;
  let clusterIp: string;
  let nodePort: number;

  it('gives every agent every Service, with its ready endpoints as backends', async () => {
    a = await startAgent(`a-${runId}`, '10.254.0.1');
    const b = await startAgent(`b-${runId}`, '10.254.0.2');
    const service = await api('POST', `/api/v1/namespaces/${namespace}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: {
        type: 'NodePort',
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      },
    });
    const spec = service['spec'] as { clusterIP: string; ports: { nodePort: number }[] };
    clusterIp = spec.clusterIP;
    nodePort = spec.ports[0]?.nodePort ?? 0;
    await api('POST', `/api/v1/namespaces/${namespace}/endpoints`, endpoints('10.244.1.5', '10.244.2.6'));
    const expected = [
      {
        name: `${namespace}/web:http`,
        protocol: 'tcp',
        clusterIp,
        port: 80,
        nodePort,
        backends: [
          { ip: '10.244.1.5', port: 8080 },
          { ip: '10.244.2.6', port: 8080 },
        ],
      },
    ];
    for (const agent of [a, b]) {
      await until('the agent to program web with two backends', async () => {
        const rules = await rulesOf(agent);
        return JSON.stringify(rules) === JSON.stringify(expected) ? true : undefined;
      });
      expect(agent.table.lookupService(namespace, 'web')).toEqual({
        clusterIP: clusterIp,
        ready: ['10.244.1.5', '10.244.2.6'],
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      });
    }
  });

  it('follows endpoint changes and deletions', async () => {
    const live = await api('GET', `/api/v1/namespaces/${namespace}/endpoints/web`);
    await api('PUT', `/api/v1/namespaces/${namespace}/endpoints/web`, {
      ...endpoints('10.244.2.6'),
      metadata: {
        name: 'web',
        namespace,
        resourceVersion: (live['metadata'] as { resourceVersion: string }).resourceVersion,
      },
    });
    await until('the backend to leave the rotation', async () => {
      const rules = await rulesOf(a);
      return rules[0]?.backends.length === 1 && rules[0].backends[0]?.ip === '10.244.2.6' ? true : undefined;
    });
    await api('DELETE', `/api/v1/namespaces/${namespace}/endpoints/web`);
    await until('no backends: connections refused', async () => {
      const rules = await rulesOf(a);
      return rules.length === 1 && rules[0]?.backends.length === 0 ? true : undefined;
    });
  });

  it('starts a late agent from the whole set, and rebuilds every table after an apiserver restart', async () => {
    await api('POST', `/api/v1/namespaces/${namespace}/endpoints`, endpoints('10.244.3.7'));
    const late = await startAgent(`c-${runId}`, '10.254.0.3');
    await until('the late agent to have the backend', async () => {
      const rules = await rulesOf(late);
      return rules[0]?.backends[0]?.ip === '10.244.3.7' ? true : undefined;
    });

    // A new apiserver: the agents reconnect and take its whole set as their table (the same rules),
    // and it keeps feeding them changes.
    const connectedBefore = late.states.filter((state) => state === 'connected').length;
    await plane.restartApiServer();
    await eventually(
      () => late.states.filter((state) => state === 'connected').length > connectedBefore,
      'the late agent to reconnect',
      30_000,
    );
    expect((await rulesOf(late))[0]?.backends[0]?.ip).toBe('10.244.3.7');
    await api('DELETE', `/api/v1/namespaces/${namespace}/services/web`);
    for (const agent of [a, late]) {
      await until(
        'the deleted Service to leave the table',
        async () => ((await rulesOf(agent)).length === 0 ? true : undefined),
        30_000,
      );
      expect(agent.table.lookupService(namespace, 'web')).toBeUndefined();
    }
  });
});
