// The endpoints controller against a real control plane (etcd, apiserver) and Redis, in-process. No
// node agents run: the test writes the pods' status (IP, Ready) through pods/status as an agent
// would, because agents are external to the controller under test.
import { randomUUID } from 'node:crypto';
import { resolveResourceName, type KubeObject, type ResourceType } from '@flotilla/api';
import { createClient, isNotFound, type RestClient } from '@flotilla/client';
import { startEndpointsController, type RunningEndpointsController } from '@flotilla/controllers';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { requireTestEnv, until } from '../support/eventually';

const redisUrl = requireTestEnv('FLOTILLA_TEST_REDIS');
const namespace = 'ep-test';

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}
const PODS = type('pods');
const SERVICES = type('services');
const ENDPOINTS = type('endpoints');

interface Address {
  ip: string;
  nodeName?: string;
  targetRef?: { name: string };
}
interface EndpointsShape extends KubeObject {
  subsets?: Array<{ addresses?: Address[]; notReadyAddresses?: Address[]; ports?: Array<{ port: number }> }>;
}

let cp: TestControlPlane;
let client: RestClient;
let controller: RunningEndpointsController;

beforeAll(async () => {
  cp = await startTestControlPlane('endpoints');
  client = createClient({ kubeconfig: cp.kubeconfigPath, env: {} });
  await client.create(type('namespaces'), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
  controller = startEndpointsController({
    client,
    redisUrl,
    queueName: `ep-${randomUUID()}`,
    resyncIntervalMs: 5000,
  });
  await controller.ready;
});

afterAll(async () => {
  await controller?.stop();
  client?.close();
  await cp?.stop();
});

async function createPod(name: string, labels: Record<string, string>, httpPort = 8080): Promise<void> {
  await client.create(
    PODS,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels },
      spec: {
        nodeName: 'node-a',
        containers: [{ name: 'web', image: 'busybox', ports: [{ name: 'http', containerPort: httpPort }] }],
      },
    },
    { namespace },
  );
}

/** What a node agent reports: Running with an IP, Ready or not. */
async function reportPod(name: string, ip: string, ready: boolean): Promise<void> {
  await client.patch(
    PODS,
    name,
    {
      status: {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      },
    },
    { namespace, subresource: 'status', patchType: 'merge' },
  );
}

async function endpointsOf(name: string): Promise<EndpointsShape | undefined> {
  try {
    return await client.get<EndpointsShape>(ENDPOINTS, name, { namespace });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function summary(endpoints: EndpointsShape | undefined): string {
  return JSON.stringify(
    (endpoints?.subsets ?? []).map((subset) => ({
      ready: (subset.addresses ?? []).map((address) => `${address.targetRef?.name ?? ''}@${address.ip}`),
      notReady: (subset.notReadyAddresses ?? []).map(
        (address) => `${address.targetRef?.name ?? ''}@${address.ip}`,
      ),
      ports: (subset.ports ?? []).map((port) => port.port),
    })),
  );
}

async function endpointsBecome(name: string, expected: unknown): Promise<EndpointsShape> {
  const wanted = JSON.stringify(expected);
  return until(
    `endpoints ${name} to be ${wanted}`,
    async () => {
      const endpoints = await endpointsOf(name);
      return endpoints && summary(endpoints) === wanted ? endpoints : undefined;
    },
    20_000,
  );
}

describe('endpoints controller', () => {
  it('lists ready pods as addresses and the rest as not ready, following readiness both ways', async () => {
    await createPod('web-1', { app: 'web' });
    await createPod('web-2', { app: 'web' });
    await createPod('other', { app: 'other' });
    await client.create(
      SERVICES,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace, labels: { tier: 'front' } },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      },
      { namespace },
    );
    // No pod has an IP yet: the Endpoints exist, empty.
    const empty = await endpointsBecome('web', []);
    expect(empty.metadata.labels).toEqual({ tier: 'front' });

    await reportPod('web-1', '10.244.0.2', true);
    await reportPod('web-2', '10.244.0.3', false);
    await reportPod('other', '10.244.0.4', true);
    await endpointsBecome('web', [
      { ready: ['web-1@10.244.0.2'], notReady: ['web-2@10.244.0.3'], ports: [8080] },
    ]);

    // A pod that stops being ready leaves the rotation; one that becomes ready joins it.
    await reportPod('web-1', '10.244.0.2', false);
    await reportPod('web-2', '10.244.0.3', true);
    await endpointsBecome('web', [
      { ready: ['web-2@10.244.0.3'], notReady: ['web-1@10.244.0.2'], ports: [8080] },
    ]);

    // A pod whose labels no longer match is dropped; a deleted pod is dropped.
    await client.patch(
      PODS,
      'web-1',
      { metadata: { labels: { app: 'moved' } } },
      { namespace, patchType: 'merge' },
    );
    await endpointsBecome('web', [{ ready: ['web-2@10.244.0.3'], notReady: [], ports: [8080] }]);
    await client.delete(PODS, 'web-2', { namespace, gracePeriodSeconds: 0 });
    await endpointsBecome('web', []);
  });

  it('repairs Endpoints someone else changed, and removes them with their Service', async () => {
    await createPod('api-1', { app: 'api' }, 9090);
    await reportPod('api-1', '10.244.1.2', true);
    await client.create(
      SERVICES,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'api', namespace },
        spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 9090 }] },
      },
      { namespace },
    );
    const expected = [{ ready: ['api-1@10.244.1.2'], notReady: [], ports: [9090] }];
    const first = await endpointsBecome('api', expected);
    await client.update(ENDPOINTS, { ...first, subsets: [] }, { namespace });
    await endpointsBecome('api', expected);

    await client.delete(SERVICES, 'api', { namespace });
    await until(
      'the endpoints of a deleted service to go',
      async () => ((await endpointsOf('api')) ? undefined : true),
      20_000,
    );
  });

  it('leaves the Endpoints of a Service without a selector to their writer', async () => {
    await client.create(
      SERVICES,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'external', namespace },
        spec: { ports: [{ port: 5432 }] },
      },
      { namespace },
    );
    await client.create(
      ENDPOINTS,
      {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'external', namespace },
        subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }],
      },
      { namespace },
    );
    // Another service's reconcile has certainly run after this one was created.
    await createPod('web-3', { app: 'web' });
    await reportPod('web-3', '10.244.0.9', true);
    await endpointsBecome('web', [{ ready: ['web-3@10.244.0.9'], notReady: [], ports: [8080] }]);
    expect(summary(await endpointsOf('external'))).toBe(
      JSON.stringify([{ ready: ['@192.0.2.10'], notReady: [], ports: [5432] }]),
    );
  });
});
