// Probes (exec, httpGet, tcpSocket) toggling Ready, liveness restarts, cgroup limits as the kernel
// sees them, and graceful termination (preStop hook, SIGTERM, SIGKILL after the grace period, then
// the sandbox, cgroup and volumes released). Needs root.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '@flotilla/api';
import { createCgroupManager } from '@flotilla/runtime';
import {
  busybox,
  condition,
  containerStatus,
  execIn,
  startTestNode,
  until,
  waitForPod,
  type TestNode,
} from './pods.fixture';

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode(1);
});

afterAll(async () => {
  await node?.cleanup();
});

const ready = (pod: Pod, want: boolean) =>
  waitForPod(
    node,
    pod,
    want ? 'Ready' : 'not Ready',
    (report) => condition(report, 'Ready') === (want ? 'True' : 'False') && report.status.phase === 'Running',
  );

describe('probes', () => {
  it('follows an exec readiness probe both ways', async () => {
    const pod = node.pod('exec-probe', {
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'app',
          ...busybox,
          command: ['sleep', '3600'],
          readinessProbe: {
            exec: { command: ['test', '-f', '/tmp/ready'] },
            periodSeconds: 1,
            failureThreshold: 1,
          },
        },
      ],
    });
    node.engine.upsertDesired(pod);
    const unready = await ready(pod, false);
    expect(containerStatus(unready, 'app')).toMatchObject({
      ready: false,
      started: true,
      state: { running: {} },
    });
    expect(unready.status.conditions?.find((entry) => entry.type === 'Ready')).toMatchObject({
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [app]',
    });
    await execIn(node, pod, 'app', ['touch', '/tmp/ready']);
    await ready(pod, true);
    await execIn(node, pod, 'app', ['rm', '/tmp/ready']);
    await ready(pod, false);
  });

  it('follows httpGet and tcpSocket readiness probes to the pod address', async () => {
    const pod = node.pod('net-probes', {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'web',
          ...busybox,
          command: ['sh', '-c', 'sleep 2; exec httpd -f -p 8080 -h /var/www'],
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
        },
        {
          name: 'tcp',
          ...busybox,
          command: ['sh', '-c', 'sleep 2; exec httpd -f -p 9090 -h /var/www'],
          readinessProbe: { tcpSocket: { port: 9090 }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
    });
    node.engine.upsertDesired(pod);
    const before = await waitForPod(
      node,
      pod,
      'running, not ready',
      (report) =>
        containerStatus(report, 'web')?.state?.running !== undefined &&
        condition(report, 'Ready') === 'False',
    );
    expect(containerStatus(before, 'web')?.ready).toBe(false);
    await ready(pod, true);
  });

  it('restarts a container whose liveness probe fails, and waits for the startup probe first', async () => {
    const pod = node.pod('liveness', {
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'app',
          ...busybox,
          command: ['sh', '-c', 'touch /tmp/alive; sleep 3600'],
          startupProbe: { exec: { command: ['test', '-f', '/tmp/alive'] }, periodSeconds: 1 },
          livenessProbe: {
            exec: { command: ['test', '-f', '/tmp/alive'] },
            periodSeconds: 1,
            failureThreshold: 2,
          },
        },
      ],
    });
    node.engine.upsertDesired(pod);
    const started = await waitForPod(
      node,
      pod,
      'started',
      (report) => containerStatus(report, 'app')?.started === true,
    );
    const firstId = containerStatus(started, 'app')?.containerID;
    await execIn(node, pod, 'app', ['rm', '/tmp/alive']);
    const restarted = await waitForPod(node, pod, 'restarted', (report) => {
      const status = containerStatus(report, 'app');
      return status?.restartCount === 1 && status.state?.running !== undefined;
    });
    const status = containerStatus(restarted, 'app');
    expect(status?.containerID).not.toBe(firstId);
    expect(status?.lastState?.terminated).toMatchObject({
      exitCode: 137,
      reason: 'Error',
      containerID: firstId,
    });
  });
});

describe('cgroups', () => {
  it('gives the pod and its containers the limits of their requests and limits', async () => {
    const pod = node.pod('limits', {
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'app',
          ...busybox,
          command: ['sleep', '3600'],
          resources: { requests: { cpu: '250m', memory: '16Mi' }, limits: { cpu: '500m', memory: '64Mi' } },
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
    expect(report.status.qosClass).toBe('Burstable');
    const cgroups = await createCgroupManager();
    const id = (containerStatus(report, 'app')?.containerID ?? '').replace('flotilla://', '');
    const podPath = `${node.options.cgroupParent}/pod${pod.metadata.uid ?? ''}`;
    expect(await cgroups.exists(podPath)).toBe(true);
    const container = await cgroups.open(`${podPath}/${id}`);
    expect((await container.usage()).memoryLimitBytes).toBe(64 * 1024 * 1024);
    expect((await (await cgroups.open(podPath)).usage()).memoryLimitBytes).toBe(64 * 1024 * 1024);
    const cpuDir = container.directories.find(
      (dir) => existsSync(join(dir, 'cpu.shares')) || existsSync(join(dir, 'cpu.weight')),
    );
    if (cpuDir && existsSync(join(cpuDir, 'cpu.shares'))) {
      expect(readFileSync(join(cpuDir, 'cpu.shares'), 'utf8').trim()).toBe('256');
      expect(readFileSync(join(cpuDir, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000');
    } else if (cpuDir) {
      expect(readFileSync(join(cpuDir, 'cpu.max'), 'utf8').trim()).toBe('50000 100000');
    }
  });
});

describe('graceful termination', () => {
  it('runs preStop, sends SIGTERM, kills after the grace period and releases the pod', async () => {
    const hooks = join(node.dir, 'hooks');
    mkdirSync(hooks, { recursive: true });
    const pod = node.pod('graceful', {
      terminationGracePeriodSeconds: 3,
      volumes: [
        { name: 'hooks', hostPath: { path: hooks, type: 'Directory' } },
        { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
      ],
      containers: [
        {
          name: 'stubborn',
          ...busybox,
          // Ignores SIGTERM: only SIGKILL after the grace period ends it.
          command: ['sh', '-c', 'trap "echo term >> /hooks/stubborn" TERM; while true; do sleep 1; done'],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /hooks/stubborn'] } } },
          volumeMounts: [
            { name: 'hooks', mountPath: '/hooks' },
            { name: 'scratch', mountPath: '/scratch' },
          ],
        },
        {
          name: 'polite',
          ...busybox,
          command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
        },
      ],
    });
    node.engine.upsertDesired(pod);
    const running = await waitForPod(
      node,
      pod,
      'running',
      (r) => r.status.phase === 'Running' && condition(r, 'ContainersReady') === 'True',
    );
    const uid = pod.metadata.uid ?? '';
    const podDir = join(node.options.stateDir, 'pods', uid);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(join(podDir, 'volumes', 'scratch'));
    expect(existsSync(`/var/run/netns/flotilla-pod-${uid}`)).toBe(true);

    node.engine.upsertDesired({
      ...pod,
      metadata: {
        ...pod.metadata,
        deletionTimestamp: new Date().toISOString(),
        deletionGracePeriodSeconds: 3,
      },
    });
    await until(
      'the pod released',
      () => node.reports.some((report) => report.uid === uid && report.released),
      30_000,
    );
    const final = node.reports.filter((report) => report.uid === uid);
    const terminal = final.find(
      (report) => !report.released && containerStatus(report, 'stubborn')?.state?.terminated,
    );
    expect(containerStatus(terminal ?? final[0]!, 'stubborn')?.state?.terminated).toMatchObject({
      exitCode: 137,
    });
    expect(containerStatus(terminal ?? final[0]!, 'polite')?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(terminal?.status.phase).toBe('Failed');
    expect(readFileSync(join(hooks, 'stubborn'), 'utf8')).toBe('prestop\nterm\n');
    expect(node.engine.currentStatuses().some((report) => report.uid === uid)).toBe(false);
    expect(existsSync(podDir)).toBe(false);
    expect(existsSync(`/var/run/netns/flotilla-pod-${uid}`)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(podDir);
    const cgroups = await createCgroupManager();
    expect(await cgroups.exists(`${node.options.cgroupParent}/pod${uid}`)).toBe(false);
    expect(running.status.podIP).toBeDefined();
  });

  it('stops a pod removed from the desired set and reports it released', async () => {
    const pod = node.pod('removed', {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'app', ...busybox, command: ['sleep', '3600'] }],
    });
    node.engine.upsertDesired(pod);
    await waitForPod(node, pod, 'running', (r) => r.status.phase === 'Running');
    node.engine.removeDesired(pod.metadata.uid ?? '');
    await until('released', () =>
      node.reports.some((report) => report.uid === pod.metadata.uid && report.released),
    );
    const last = node.reports.filter((report) => report.uid === pod.metadata.uid).at(-1);
    expect(last?.released).toBe(true);
    expect(containerStatus(last!, 'app')?.state?.terminated?.exitCode).toBe(137);
  });
});
