// The pod engine driven directly with Pod objects (no gRPC), on a real bridge, network namespaces,
// cgroups and overlay roots: containers of a pod share localhost, init containers run in order,
// restart policies finish pods as Kubernetes does, exec and logs (with --previous) work. Needs root.
import { execFileSync } from 'node:child_process';
import type { Pod } from '@flotilla/api';
import {
  busybox,
  condition,
  containerStatus,
  execIn,
  readAll,
  startTestNode,
  waitForPod,
  type TestNode,
} from './pods.fixture';

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode(0);
});

afterAll(async () => {
  await node?.cleanup();
});

function podLogs(
  pod: Pod,
  container: string,
  extra: { previous?: boolean; tailLines?: number; timestamps?: boolean } = {},
) {
  return node.engine
    .logs({
      namespace: 'default',
      pod: pod.metadata.name ?? '',
      container,
      follow: false,
      previous: extra.previous ?? false,
      timestamps: extra.timestamps ?? false,
      ...(extra.tailLines !== undefined ? { tailLines: extra.tailLines } : {}),
    })
    .then(readAll);
}

describe('a pod with two containers', () => {
  let pod: Pod;
  beforeAll(() => {
    pod = node.pod('web', {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'web',
          ...busybox,
          command: ['httpd', '-f', '-p', '8080', '-h', '/var/www'],
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
        },
        { name: 'sidecar', ...busybox, command: ['sleep', '3600'] },
      ],
    });
    node.engine.upsertDesired(pod);
  });

  it('runs Ready with an address from the pod CIDR', async () => {
    const report = await waitForPod(node, pod, 'Ready', (r) => condition(r, 'Ready') === 'True');
    expect(report.status.phase).toBe('Running');
    const prefix = node.options.podCidr.split('.').slice(0, 3).join('.');
    expect(report.status.podIP?.startsWith(`${prefix}.`)).toBe(true);
    expect(report.status.podIPs).toEqual([{ ip: report.status.podIP }]);
    expect(report.status.hostIP).toBe('127.0.0.1');
    expect(report.status.conditions?.map((entry) => entry.type)).toEqual([
      'Initialized',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ]);
    const web = containerStatus(report, 'web');
    expect(web).toMatchObject({
      ready: true,
      started: true,
      restartCount: 0,
      image: 'docker.io/flotilla/busybox:latest',
      state: { running: {} },
      lastState: {},
    });
    expect(web?.containerID).toMatch(/^flotilla:\/\/[0-9a-f]{64}$/);
    expect(web?.imageID).toMatch(/^docker\.io\/flotilla\/busybox@sha256:[0-9a-f]{64}$/);
    expect(report.status.qosClass).toBe('BestEffort');
  });

  it("configures the pod's namespace: lo and eth0 up, the pod IP on eth0, the default route via the bridge", async () => {
    const ip = (await waitForPod(node, pod, 'an IP', (r) => r.status.podIP !== undefined)).status.podIP;
    const namespace = `flotilla-pod-${pod.metadata.uid ?? ''}`.slice(0, 63);
    const ipIn = (...args: string[]): string =>
      execFileSync('ip', ['-n', namespace, ...args], { encoding: 'utf8' });
    for (const device of ['lo', 'eth0']) {
      expect(ipIn('-o', 'link', 'show', device)).toMatch(/<[^>]*\bUP\b[^>]*>/);
    }
    expect(ipIn('-4', '-o', 'addr', 'show', 'dev', 'lo')).toContain('127.0.0.1/8');
    const [network, prefix] = node.options.podCidr.split('/');
    expect(ipIn('-4', '-o', 'addr', 'show', 'dev', 'eth0')).toContain(`${ip ?? 'no IP'}/${prefix ?? ''}`);
    const gateway = (network ?? '').replace(/\.0$/, '.1');
    expect(ipIn('route', 'show', 'default')).toContain(`default via ${gateway} dev eth0`);
  });

  it('shares localhost between the containers', async () => {
    const result = await execIn(node, pod, 'sidecar', ['wget', '-q', '-O', '-', 'http://127.0.0.1:8080/']);
    expect(result.exitCode).toBe(0);
    expect(result.output.length).toBeGreaterThan(0);
  });

  it('names the pod and writes its hosts file', async () => {
    const ip = (await waitForPod(node, pod, 'an IP', (r) => r.status.podIP !== undefined)).status.podIP;
    expect((await execIn(node, pod, 'sidecar', ['hostname'])).output.trim()).toBe('web');
    const hosts = (await execIn(node, pod, 'sidecar', ['cat', '/etc/hosts'])).output;
    expect(hosts).toContain('# Kubernetes-managed hosts file.');
    expect(hosts).toContain(`${ip}\tweb`);
  });

  it('passes stdin to exec and reports exit codes', async () => {
    const session = await node.engine.exec({
      namespace: 'default',
      pod: 'web',
      container: 'sidecar',
      command: ['sh', '-c', 'cat; exit 7'],
      tty: false,
      stdin: true,
    });
    session.stdin?.end('through stdin\n');
    const [output, code] = await Promise.all([readAll(session.stdout), session.exited]);
    expect(output).toBe('through stdin\n');
    expect(code).toBe(7);
  });

  it('refuses logs without a container name, as Kubernetes does', async () => {
    await expect(
      node.engine.logs({
        namespace: 'default',
        pod: 'web',
        follow: false,
        previous: false,
        timestamps: false,
      }),
    ).rejects.toMatchObject({
      code: 'BadRequest',
      message: 'a container name must be specified for pod web, choose one of: [web sidecar]',
    });
    await expect(
      node.engine.logs({
        namespace: 'default',
        pod: 'nope',
        follow: false,
        previous: false,
        timestamps: false,
      }),
    ).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('reports CPU and memory from the cgroups', async () => {
    const sample = await node.engine.usage();
    const usage = sample.pods.find((entry) => entry.name === 'web');
    expect(usage?.containers.map((entry) => entry.name).sort()).toEqual(['sidecar', 'web']);
    expect(usage?.containers.every((entry) => entry.memoryWorkingSetBytes > 0)).toBe(true);
    expect(sample.nodeMemoryWorkingSetBytes).toBeGreaterThan(0);
  });
});

describe('init containers and restart policies', () => {
  it('runs init containers in order before the app, sharing an emptyDir', async () => {
    const pod = node.pod('init', {
      restartPolicy: 'Never',
      volumes: [{ name: 'work', emptyDir: {} }],
      initContainers: [
        {
          name: 'first',
          ...busybox,
          command: ['sh', '-c', 'echo first >> /work/order'],
          volumeMounts: [{ name: 'work', mountPath: '/work' }],
        },
        {
          name: 'second',
          ...busybox,
          command: ['sh', '-c', 'echo second >> /work/order'],
          volumeMounts: [{ name: 'work', mountPath: '/work' }],
        },
      ],
      containers: [
        {
          name: 'app',
          ...busybox,
          command: ['cat', '/work/order'],
          volumeMounts: [{ name: 'work', mountPath: '/work' }],
        },
      ],
    });
    node.engine.upsertDesired(pod);
    const report = await waitForPod(node, pod, 'Succeeded', (r) => r.status.phase === 'Succeeded');
    expect(await podLogs(pod, 'app')).toBe('first\nsecond\n');
    expect(containerStatus(report, 'first')).toMatchObject({
      ready: true,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    });
    expect(containerStatus(report, 'app')).toMatchObject({
      ready: false,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    });
    expect(report.status.conditions?.find((entry) => entry.type === 'Initialized')).toMatchObject({
      status: 'True',
      reason: 'PodCompleted',
    });
    expect(condition(report, 'Ready')).toBe('False');
  });

  it('finishes a Never pod that fails as Failed with reason Error', async () => {
    const pod = node.pod('never', {
      restartPolicy: 'Never',
      containers: [{ name: 'app', ...busybox, command: ['sh', '-c', 'exit 3'] }],
    });
    node.engine.upsertDesired(pod);
    const report = await waitForPod(node, pod, 'Failed', (r) => r.status.phase === 'Failed');
    expect(containerStatus(report, 'app')).toMatchObject({
      restartCount: 0,
      state: { terminated: { exitCode: 3, reason: 'Error' } },
    });
  });

  it('restarts an OnFailure container until it succeeds, keeping the previous log', async () => {
    const pod = node.pod('onfailure', {
      restartPolicy: 'OnFailure',
      volumes: [{ name: 'count', emptyDir: {} }],
      containers: [
        {
          name: 'app',
          ...busybox,
          command: [
            'sh',
            '-c',
            'n=$(($(cat /count/n 2>/dev/null || echo 0) + 1)); echo $n > /count/n; echo run $n; [ $n -ge 2 ]',
          ],
          volumeMounts: [{ name: 'count', mountPath: '/count' }],
        },
      ],
    });
    node.engine.upsertDesired(pod);
    const report = await waitForPod(node, pod, 'Succeeded', (r) => r.status.phase === 'Succeeded');
    const status = containerStatus(report, 'app');
    expect(status).toMatchObject({
      restartCount: 1,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error' } },
    });
    expect(status?.lastState?.terminated?.containerID).not.toBe(status?.containerID);
    expect(await podLogs(pod, 'app')).toBe('run 2\n');
    expect(await podLogs(pod, 'app', { previous: true })).toBe('run 1\n');
    expect(await podLogs(pod, 'app', { timestamps: true })).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z run 2\n$/,
    );
  });

  it('backs off a crashing container with the real reason CrashLoopBackOff', async () => {
    const pod = node.pod('crash', {
      containers: [{ name: 'app', ...busybox, command: ['sh', '-c', 'echo crashing; exit 2'] }],
    });
    node.engine.upsertDesired(pod);
    const report = await waitForPod(
      node,
      pod,
      'CrashLoopBackOff',
      (r) => containerStatus(r, 'app')?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    const status = containerStatus(report, 'app');
    expect(status?.state?.waiting?.message).toBe(
      `back-off 10s restarting failed container=app pod=crash_default(${pod.metadata.uid ?? ''})`,
    );
    expect(status).toMatchObject({
      restartCount: 1,
      ready: false,
      lastState: { terminated: { exitCode: 2, reason: 'Error' } },
    });
    expect(report.status.phase).toBe('Running');
    expect(await podLogs(pod, 'app')).toBe('crashing\n');
    expect(await podLogs(pod, 'app', { previous: true })).toBe('crashing\n');
  });

  it('reports OOMKilled for a container past its memory limit', async () => {
    const pod = node.pod('oom', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'app',
          ...busybox,
          resources: { limits: { memory: '32Mi', cpu: '500m' } },
          command: ['sh', '-c', 'x=aaaaaaaaaaaaaaaa; while true; do x="$x$x"; done'],
        },
      ],
    });
    node.engine.upsertDesired(pod);
    const report = await waitForPod(node, pod, 'Failed', (r) => r.status.phase === 'Failed');
    expect(containerStatus(report, 'app')?.state?.terminated).toMatchObject({
      reason: 'OOMKilled',
      exitCode: 137,
    });
    expect(report.status.qosClass).toBe('Guaranteed');
  });

  it('says why an image cannot be pulled', async () => {
    const pod = node.pod('nopull', {
      containers: [{ name: 'app', image: '127.0.0.1:9/nothing:1', imagePullPolicy: 'IfNotPresent' }],
    });
    node.engine.upsertDesired(pod);
    const pulled = await waitForPod(
      node,
      pod,
      'ErrImagePull',
      (r) => containerStatus(r, 'app')?.state?.waiting?.reason === 'ErrImagePull',
    );
    expect(containerStatus(pulled, 'app')?.state?.waiting?.message).toContain('127.0.0.1:9/nothing:1');
    await waitForPod(
      node,
      pod,
      'ImagePullBackOff',
      (r) => containerStatus(r, 'app')?.state?.waiting?.reason === 'ImagePullBackOff',
    );
    expect(pulled.status.phase).toBe('Pending');
    const never = node.pod('neverpull', {
      containers: [{ name: 'app', image: 'nothing:1', imagePullPolicy: 'Never' }],
    });
    node.engine.upsertDesired(never);
    const refused = await waitForPod(
      node,
      never,
      'ErrImageNeverPull',
      (r) => containerStatus(r, 'app')?.state?.waiting?.reason === 'ErrImageNeverPull',
    );
    expect(containerStatus(refused, 'app')?.state?.waiting?.message).toBe(
      'Container image "nothing:1" is not present with pull policy of Never',
    );
  });
});

describe('logs, exec and reporting details', () => {
  it('follows a log with tail and stops when the container ends', async () => {
    const pod = node.pod('follow', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'app',
          ...busybox,
          command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; sleep 0.3; done'],
        },
      ],
    });
    node.engine.upsertDesired(pod);
    await waitForPod(node, pod, 'running', (r) => containerStatus(r, 'app')?.state?.running !== undefined);
    for (let attempt = 0; attempt < 50 && !(await podLogs(pod, 'app')).includes('line 2'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const followed = await node.engine.logs({
      namespace: 'default',
      pod: 'follow',
      container: 'app',
      follow: true,
      previous: false,
      timestamps: false,
      tailLines: 1,
    });
    const text = await readAll(followed);
    expect(text.endsWith('line 4\nline 5\n')).toBe(true);
    expect(text).not.toContain('line 1');
    expect(await podLogs(pod, 'app', { tailLines: 2 })).toBe('line 4\nline 5\n');
    await waitForPod(node, pod, 'Succeeded', (r) => r.status.phase === 'Succeeded');
  });

  it('runs a hostNetwork pod in the node namespace with the node address', async () => {
    const pod = node.pod('hostnet', {
      hostNetwork: true,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'app', ...busybox, command: ['sleep', '3600'] }],
    });
    node.engine.upsertDesired(pod);
    const report = await waitForPod(
      node,
      pod,
      'running',
      (r) => containerStatus(r, 'app')?.state?.running !== undefined,
    );
    expect(report.status.podIP).toBe('127.0.0.1');
    const links = (await execIn(node, pod, 'app', ['ip', 'link'])).output;
    expect(links).toContain(node.options.bridgeName);
  });

  it('gives exec a terminal when asked', async () => {
    const session = await node.engine.exec({
      namespace: 'default',
      pod: 'web',
      container: 'sidecar',
      command: ['sh', '-c', 'test -t 1 && echo tty'],
      tty: true,
      stdin: false,
    });
    expect(session.stderr).toBeUndefined();
    const [output, code] = await Promise.all([readAll(session.stdout), session.exited]);
    expect(output.replace(/\r/g, '')).toBe('tty\n');
    expect(code).toBe(0);
  });

  it('resizes the terminal of an exec', async () => {
    const session = await node.engine.exec({
      namespace: 'default',
      pod: 'web',
      container: 'sidecar',
      // The line on stdin arrives after the size: the shim applies sizes before it relays input.
      command: ['sh', '-c', 'read line; stty size'],
      tty: true,
      stdin: true,
    });
    session.resize({ rows: 30, columns: 100 });
    session.stdin?.write('go\n');
    const [output, code] = await Promise.all([readAll(session.stdout), session.exited]);
    expect(output.replace(/\r/g, '').trim().split('\n').at(-1)).toBe('30 100');
    expect(code).toBe(0);
  });

  it('restarts a container whose image changed', async () => {
    const pod = node.pod('respec', {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'app', ...busybox, command: ['sleep', '3600'] }],
    });
    node.engine.upsertDesired(pod);
    const first = await waitForPod(
      node,
      pod,
      'running',
      (r) => containerStatus(r, 'app')?.state?.running !== undefined,
    );
    const changed: Pod = {
      ...pod,
      spec: {
        ...pod.spec,
        containers: [
          { name: 'app', ...busybox, image: 'docker.io/flotilla/busybox:latest', command: ['sleep', '3600'] },
        ],
      },
    };
    node.engine.upsertDesired(changed);
    const second = await waitForPod(
      node,
      pod,
      'restarted',
      (r) =>
        containerStatus(r, 'app')?.restartCount === 1 &&
        containerStatus(r, 'app')?.state?.running !== undefined,
    );
    expect(containerStatus(second, 'app')?.containerID).not.toBe(containerStatus(first, 'app')?.containerID);
  });

  it('reports a pod only when its status changed', () => {
    const byPod = new Map<string, unknown[]>();
    for (const report of node.reports) byPod.set(report.uid, [...(byPod.get(report.uid) ?? []), report]);
    for (const reports of byPod.values()) {
      for (let index = 1; index < reports.length; index++)
        expect(reports[index]).not.toEqual(reports[index - 1]);
    }
    expect(node.reports.length).toBeGreaterThan(byPod.size);
  });
});
