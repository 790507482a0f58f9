// The agent restarts: close() leaves containers running under their shims, a new engine on the same
// state dir re-adopts them with the same container IDs and restart counts, never restarts a pod that
// finished, and after its first replaceDesired releases the pods no longer desired. Needs root.
import type { Pod } from '@flotilla/api';
import { ContainerManager } from '@flotilla/runtime';
import {
  busybox,
  containerStatus,
  execIn,
  latest,
  startTestNode,
  until,
  waitForPod,
  type TestNode,
} from './pods.fixture';

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode(3);
});

afterAll(async () => {
  await node?.cleanup();
});

it('re-adopts running containers, keeps restart counts and leaves finished pods alone', async () => {
  const steady = node.pod('steady', {
    terminationGracePeriodSeconds: 0,
    volumes: [{ name: 'count', emptyDir: {} }],
    containers: [
      {
        name: 'app',
        ...busybox,
        // Fails on its first run only, so it has a restart to remember.
        command: [
          'sh',
          '-c',
          'n=$(($(cat /count/n 2>/dev/null || echo 0) + 1)); echo $n > /count/n; [ $n -ge 2 ] || exit 1; exec sleep 3600',
        ],
        readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
        volumeMounts: [{ name: 'count', mountPath: '/count' }],
      },
    ],
  });
  const done = node.pod('done', {
    restartPolicy: 'OnFailure',
    containers: [{ name: 'app', ...busybox, command: ['sh', '-c', 'echo finished'] }],
  });
  const failed = node.pod('failed', {
    restartPolicy: 'Never',
    containers: [{ name: 'app', ...busybox, command: ['sh', '-c', 'exit 4'] }],
  });
  const leaving = node.pod('leaving', {
    terminationGracePeriodSeconds: 0,
    containers: [{ name: 'app', ...busybox, command: ['sleep', '3600'] }],
  });
  node.engine.replaceDesired([steady, done, failed, leaving]);
  const before = await waitForPod(node, steady, 'ready after one restart', (r) => {
    const status = containerStatus(r, 'app');
    return status?.restartCount === 1 && status.ready;
  });
  await waitForPod(node, done, 'Succeeded', (r) => r.status.phase === 'Succeeded');
  await waitForPod(node, failed, 'Failed', (r) => r.status.phase === 'Failed');
  await waitForPod(node, leaving, 'Running', (r) => r.status.phase === 'Running');
  const ids = (pod: Pod): string | undefined =>
    containerStatus(latest(node, pod.metadata.uid ?? '')!, 'app')?.containerID;
  const idsBefore = new Map([steady, done, failed, leaving].map((pod) => [pod.metadata.name, ids(pod)]));

  await node.engine.close();
  // The agent is gone; its containers are not.
  const restarted = await node.restart();
  expect(
    restarted
      .currentStatuses()
      .map((report) => report.name)
      .sort(),
  ).toEqual(['done', 'failed', 'leaving', 'steady']);

  // Before any desired set arrives, the new engine keeps everything as it was.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  for (const pod of [steady, done, failed, leaving]) expect(ids(pod)).toBe(idsBefore.get(pod.metadata.name));
  const adopted = latest(node, steady.metadata.uid ?? '')!;
  expect(containerStatus(adopted, 'app')).toMatchObject({
    restartCount: 1,
    ready: true,
    state: { running: {} },
  });
  expect(containerStatus(adopted, 'app')?.state?.running?.startedAt).toBe(
    containerStatus(before, 'app')?.state?.running?.startedAt,
  );
  expect(latest(node, done.metadata.uid ?? '')?.status.phase).toBe('Succeeded');
  expect(containerStatus(latest(node, done.metadata.uid ?? '')!, 'app')?.restartCount).toBe(0);
  expect(latest(node, failed.metadata.uid ?? '')?.status.phase).toBe('Failed');
  expect((await execIn(node, steady, 'app', ['cat', '/count/n'])).output).toBe('2\n');

  // The first desired set after the restart: `leaving` is no longer wanted.
  restarted.replaceDesired([steady, done, failed]);
  await until('leaving released', () =>
    node.reports.some((report) => report.name === 'leaving' && report.released),
  );
  expect(
    restarted
      .currentStatuses()
      .map((report) => report.name)
      .sort(),
  ).toEqual(['done', 'failed', 'steady']);
  expect(ids(steady)).toBe(idsBefore.get('steady'));
  expect(ids(done)).toBe(idsBefore.get('done'));
  expect(containerStatus(latest(node, steady.metadata.uid ?? '')!, 'app')?.restartCount).toBe(1);

  // The adopted container is still watched: when it dies, the new engine restarts it.
  // (Killed from outside, as the OOM killer or an operator would; init ignores SIGKILL from inside.)
  const id = (idsBefore.get('steady') ?? '').replace('flotilla://', '');
  await new ContainerManager({ stateDir: node.options.stateDir }).kill(id, 'SIGKILL');
  await waitForPod(node, steady, 'restarted by the new engine', (r) => {
    const status = containerStatus(r, 'app');
    return status?.restartCount === 2 && status.state?.running !== undefined;
  });
});
