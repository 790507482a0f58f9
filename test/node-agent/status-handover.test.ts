// A node's pod statuses across a reconnect: the agent's new stream replaces the old one while the
// apiserver may still be writing reports the old stream delivered. Those older reports must not land
// after the new stream's newer ones: the agent sends a status once per change (and again only on its
// next reconnect), so a ContainerCreating written over Running would stay in the API while the pod
// runs. Streams are driven with the raw gRPC client here, so the test decides exactly which reports
// each stream carries; the apiserver and etcd are real.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import type { Pod } from '@flotilla/api';
import { NodeServiceClient, RegisterRequest, type AgentMessage, type ServerMessage } from '@flotilla/proto';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { until } from '../support/eventually';

const runId = randomBytes(4).toString('hex');
const namespace = `handover-${runId}`;
const nodeName = `handover-${runId}`;
/** Enough pods that, without ordering between the streams, some old report lands last. */
const POD_COUNT = 300;

let plane: TestControlPlane;
let client: NodeServiceClient;
const streams: ClientDuplexStream<AgentMessage, ServerMessage>[] = [];

beforeAll(async () => {
  plane = await startTestControlPlane('handover', { nodeService: true, heartbeatIntervalSeconds: 1 });
  const certificate = plane.nodeCertificate(nodeName);
  client = new NodeServiceClient(
    `127.0.0.1:${plane.grpcPort ?? 0}`,
    credentials.createSsl(
      readFileSync(plane.caFile),
      readFileSync(certificate.keyFile),
      readFileSync(certificate.certFile),
    ),
  );
  const namespaceResult = await plane.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  });
  expect(namespaceResult.status).toBe(201);
  await new Promise<void>((resolve, reject) =>
    client.register(
      RegisterRequest.fromPartial({
        nodeName,
        addresses: [{ type: 'InternalIP', address: '127.0.0.9' }],
        capacity: { cpu: '4', memory: '16Gi', pods: '110' },
        allocatable: { cpu: '4', memory: '16Gi', pods: '110' },
        agentEndpoint: '127.0.0.9:10250',
      }),
      (error) => (error ? reject(error) : resolve()),
    ),
  );
});

afterAll(async () => {
  for (const stream of streams) stream.cancel();
  client?.close();
  await plane?.stop();
});

/** A Connect stream whose server-side end (ABORTED when replaced) is expected, not a failure. */
function connect(): ClientDuplexStream<AgentMessage, ServerMessage> {
  const stream = client.connect();
  stream.on('data', () => undefined);
  stream.on('error', () => undefined);
  streams.push(stream);
  return stream;
}

function statusReport(pod: Pod, message: string, phase: 'Pending' | 'Running'): AgentMessage {
  return {
    payload: {
      $case: 'podStatus',
      value: {
        namespace,
        name: pod.metadata.name ?? '',
        uid: pod.metadata.uid ?? '',
        statusJson: Buffer.from(JSON.stringify({ phase, message })),
        released: false,
      },
    },
  };
}

async function createBoundPod(name: string): Promise<Pod> {
  const result = await plane.request('POST', `/api/v1/namespaces/${namespace}/pods`, {
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace },
      spec: { nodeName, containers: [{ name: 'main', image: 'busybox' }] },
    },
  });
  expect(result.status).toBe(201);
  return result.json<Pod>();
}

async function listPods(): Promise<Map<string, Pod>> {
  const result = await plane.request('GET', `/api/v1/namespaces/${namespace}/pods`);
  expect(result.status).toBe(200);
  const items = result.json<{ items: Pod[] }>().items;
  return new Map(items.map((pod) => [pod.metadata.name ?? '', pod]));
}

describe('pod statuses across a stream handover', () => {
  it("never writes an old stream's report over the newer stream's report of the same pod", async () => {
    const pods: Pod[] = [];
    for (let index = 0; index < POD_COUNT; index++) pods.push(await createBoundPod(`pod-${index}`));
    const marker = await createBoundPod('marker');

    // The old stream's reports (two per pod: the second waits behind the first's write, as a
    // report does behind a slow etcd) and, at once, a new stream (the agent reconnected) with the
    // newest ones.
    const old = connect();
    for (const pod of pods) {
      old.write(statusReport(pod, 'creating', 'Pending'));
      old.write(statusReport(pod, 'still creating', 'Pending'));
    }
    // The old session reads its reports before the new stream replaces it (what it has not read
    // when it closes is not written: the agent sends its current statuses on the new stream).
    await until('the old stream to write a first report', async () => {
      const listed = await listPods();
      return pods.some((pod) => listed.get(pod.metadata.name ?? '')?.status?.message !== undefined);
    });
    const current = connect();
    for (const pod of pods) current.write(statusReport(pod, 'running', 'Running'));

    await until('every pod to show the newer report', async () => {
      const listed = await listPods();
      return pods.every((pod) => listed.get(pod.metadata.name ?? '')?.status?.message === 'running');
    });
    // A third stream's report is written only after the streams before it have written everything
    // they were sent, so once it shows, no older report is still on its way.
    const last = connect();
    last.write(statusReport(marker, 'marker', 'Running'));
    await until('the third stream to write', async () => {
      const listed = await listPods();
      return listed.get('marker')?.status?.message === 'marker';
    });

    const listed = await listPods();
    const regressed = pods
      .filter((pod) => listed.get(pod.metadata.name ?? '')?.status?.message !== 'running')
      .map((pod) => pod.metadata.name);
    expect(regressed).toEqual([]);
  });

  it('writes a re-sent report that equals a cached copy when another writer changed the pod since', async () => {
    const pod = await createBoundPod('resent');
    const first = connect();
    first.write(statusReport(pod, 'running', 'Running'));
    await until(
      'the first report',
      async () => (await listPods()).get('resent')?.status?.message === 'running',
    );
    // Another writer replaces the status; the agent reconnects and sends its current status again,
    // equal to what the apiserver's cache may still hold: only etcd can tell that it is not a no-op.
    const live = (await listPods()).get('resent') as Pod;
    const put = await plane.request('PUT', `/api/v1/namespaces/${namespace}/pods/resent/status`, {
      body: { ...live, status: { phase: 'Pending', message: 'overwritten' } },
    });
    expect(put.status).toBe(200);
    const again = connect();
    again.write(statusReport(pod, 'running', 'Running'));
    await until(
      'the re-sent report',
      async () => (await listPods()).get('resent')?.status?.message === 'running',
    );
    expect((await listPods()).get('resent')?.status?.phase).toBe('Running');
  });
});
