// Environment and volumes from the API: the engine's resolveObject seam backed by a real control
// plane (etcd + apiserver) through the REST client, as the agent backs it. ConfigMap and Secret keys
// as env and as files (updated in place when the object changes), field references, emptyDir, and a
// pod whose ConfigMap is missing waiting with CreateContainerConfigError. Needs root.
import { createClient, isNotFound, type RestClient } from '@flotilla/client';
import { resourceTypeForKind, type ConfigMap, type ResourceType } from '@flotilla/api';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import {
  busybox,
  containerStatus,
  execIn,
  readAll,
  startTestNode,
  until,
  waitForPod,
  type TestNode,
} from './pods.fixture';

let controlPlane: TestControlPlane;
let client: RestClient;
let node: TestNode;

function typeOf(kind: string): ResourceType {
  const type = resourceTypeForKind('v1', kind);
  if (!type) throw new Error(`no resource type for ${kind}`);
  return type;
}

beforeAll(async () => {
  controlPlane = await startTestControlPlane('pods-config');
  client = createClient({ kubeconfig: controlPlane.kubeconfigPath });
  node = await startTestNode(2, {
    resolveObject: async ({ kind, namespace, name }) => {
      try {
        return await client.get(typeOf(kind), name, { namespace });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
  });
  await client.create(typeOf('ConfigMap'), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: 'default' },
    data: { mode: 'fast', 'app.conf': 'port=8080\n' },
  });
  await client.create(typeOf('Secret'), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'creds', namespace: 'default' },
    data: { password: Buffer.from('s3cret').toString('base64') },
  });
});

afterAll(async () => {
  await node?.cleanup();
  client?.close();
  await controlPlane?.stop();
});

it('gives a container env and files from ConfigMaps, Secrets and the pod itself', async () => {
  const pod = node.pod('configured', {
    terminationGracePeriodSeconds: 0,
    volumes: [
      { name: 'config', configMap: { name: 'settings' } },
      {
        name: 'secret',
        secret: { secretName: 'creds', items: [{ key: 'password', path: 'db/password', mode: 0o400 }] },
      },
      { name: 'scratch', emptyDir: {} },
    ],
    containers: [
      {
        name: 'app',
        ...busybox,
        command: ['sh', '-c', 'echo "$MODE $PASSWORD $POD $NS $UID $IP $NODE $GREETING"; sleep 3600'],
        env: [
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'GREETING', value: 'hello-$(POD)' },
        ],
        volumeMounts: [
          { name: 'config', mountPath: '/etc/app', readOnly: true },
          { name: 'secret', mountPath: '/secrets', readOnly: true },
          { name: 'scratch', mountPath: '/scratch' },
        ],
      },
    ],
  });
  node.engine.upsertDesired(pod);
  const report = await waitForPod(
    node,
    pod,
    'running',
    (r) => containerStatus(r, 'app')?.state?.running !== undefined,
  );
  const ip = report.status.podIP ?? '';
  const logs = async (): Promise<string> =>
    readAll(
      await node.engine.logs({
        namespace: 'default',
        pod: 'configured',
        container: 'app',
        follow: false,
        previous: false,
        timestamps: false,
      }),
    );
  let first = '';
  for (let attempt = 0; attempt < 50 && first === ''; attempt++) {
    first = await logs();
    if (first === '') await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(first).toBe(
    `fast s3cret configured default ${pod.metadata.uid ?? ''} ${ip} ${node.options.nodeName} hello-configured\n`,
  );
  expect((await execIn(node, pod, 'app', ['cat', '/etc/app/app.conf', '/etc/app/mode'])).output).toBe(
    'port=8080\nfast',
  );
  expect((await execIn(node, pod, 'app', ['cat', '/secrets/db/password'])).output).toBe('s3cret');
  expect(
    (await execIn(node, pod, 'app', ['stat', '-L', '-c', '%a', '/secrets/db/password'])).output.trim(),
  ).toBe('400');
  expect((await execIn(node, pod, 'app', ['sh', '-c', 'echo x > /scratch/f && cat /scratch/f'])).output).toBe(
    'x\n',
  );

  // A changed ConfigMap reaches the mounted files on a resync, as kubelet refreshes them.
  const current = await client.get(typeOf('ConfigMap'), 'settings', { namespace: 'default' });
  const data = (current as unknown as ConfigMap).data;
  await client.update(typeOf('ConfigMap'), { ...current, data: { ...data, mode: 'slow' } });
  let mode = '';
  const deadline = Date.now() + 15_000;
  while (mode !== 'slow' && Date.now() < deadline) {
    mode = (await execIn(node, pod, 'app', ['cat', '/etc/app/mode'])).output;
    if (mode !== 'slow') await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(mode).toBe('slow');
});

it('waits with CreateContainerConfigError while a referenced ConfigMap is missing, then starts', async () => {
  const pod = node.pod('missing-config', {
    terminationGracePeriodSeconds: 0,
    containers: [
      {
        name: 'app',
        ...busybox,
        command: ['sleep', '3600'],
        env: [{ name: 'LATER', valueFrom: { configMapKeyRef: { name: 'later', key: 'value' } } }],
      },
    ],
  });
  node.engine.upsertDesired(pod);
  const waiting = await waitForPod(
    node,
    pod,
    'CreateContainerConfigError',
    (r) => containerStatus(r, 'app')?.state?.waiting?.reason === 'CreateContainerConfigError',
  );
  expect(containerStatus(waiting, 'app')?.state?.waiting?.message).toBe('configmap "later" not found');
  expect(waiting.status.phase).toBe('Pending');
  await client.create(typeOf('ConfigMap'), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'later', namespace: 'default' },
    data: { value: 'now' },
  });
  await waitForPod(node, pod, 'running', (r) => containerStatus(r, 'app')?.state?.running !== undefined);
  expect((await execIn(node, pod, 'app', ['sh', '-c', 'echo $LATER'])).output).toBe('now\n');
});

it('waits in ContainerCreating while a configMap volume is missing', async () => {
  const pod = node.pod('missing-volume', {
    terminationGracePeriodSeconds: 0,
    volumes: [{ name: 'config', configMap: { name: 'absent' } }],
    containers: [
      {
        name: 'app',
        ...busybox,
        command: ['sleep', '3600'],
        volumeMounts: [{ name: 'config', mountPath: '/c' }],
      },
    ],
  });
  node.engine.upsertDesired(pod);
  const report = await waitForPod(node, pod, 'pending', (r) => r.status.phase === 'Pending');
  expect(containerStatus(report, 'app')?.state?.waiting?.reason).toBe('ContainerCreating');
  await until('the mount failure logged', () =>
    node.logs.some((line) => line.includes('configmap "absent" not found')),
  );
});
