// Node pressure end to end: a real node-agent process (dist/apps/node-agent) in a cgroup limited to
// 512Mi, with its state dir on a 64Mi tmpfs, reports MemoryPressure when a process in the node's
// cgroup holds 256Mi and DiskPressure when the state dir fills; the node lifecycle controller taints
// the Node, the scheduler keeps a new BestEffort pod off it, and everything clears once the memory
// and the file are freed. Needs root (cgroups, mounts) and the build (`npx tsc -b tsconfig.build.json`).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node } from '@flotilla/api';
import { createClient, type RestClient } from '@flotilla/client';
import { freePort } from '@flotilla/cluster';
import { startNodeLifecycleController, type RunningNodeLifecycle } from '@flotilla/controllers';
import { createCgroupManager, type CgroupHandle, type CgroupManager } from '@flotilla/runtime';
import { startScheduler, type RunningScheduler } from '@flotilla/scheduler';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { requireTestEnv, until } from '../support/eventually';

const MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'node-agent', 'src', 'main.js');
const redisUrl = requireTestEnv('FLOTILLA_TEST_REDIS');
const runId = randomBytes(4).toString('hex');
const cgroupRoot = `flotilla-test-pressure-${runId}`;
const nodeName = `pressure-${runId}`;
const bridge = `fprs${runId}`;
const Mi = 1024 * 1024;

let plane: TestControlPlane;
let client: RestClient;
let cgroups: CgroupManager;
let lifecycle: RunningNodeLifecycle | undefined;
let scheduler: RunningScheduler | undefined;
let stateDir = '';
let mounted = false;
const handles: CgroupHandle[] = [];
const children: ChildProcess[] = [];

const quote = (argument: string): string => `'${argument.replace(/'/g, `'\\''`)}'`;

function agentLog(): string {
  const log = join(plane.dir, 'agent.log');
  return existsSync(log) ? readFileSync(log, 'utf8').slice(-3000) : '(none)';
}

/** Runs argv as a process that is in `cgroup` from its first instruction on. */
function spawnIn(cgroup: CgroupHandle, argv: string[], logFile: string): ChildProcess {
  const joinCgroup = cgroup.procsFiles.map((file) => `echo $$ > ${quote(file)}`).join(' && ');
  const log = openSync(logFile, 'a');
  const child = spawn('sh', ['-c', `${joinCgroup} && exec "$@"`, 'sh', ...argv], {
    stdio: ['ignore', log, log],
  });
  children.push(child);
  return child;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'this test needs root: it creates a memory-limited cgroup and a tmpfs state dir for the agent',
    );
  }
  if (!existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing: build first with \`npx tsc -b tsconfig.build.json\``);
  }
  plane = await startTestControlPlane('pressure', { nodeService: true, heartbeatIntervalSeconds: 1 });
  client = createClient({ kubeconfig: plane.kubeconfigPath });
  cgroups = await createCgroupManager();
  const node = await cgroups.create(`${cgroupRoot}/node`, { memoryBytes: 512 * Mi });
  handles.unshift(node);
  const agentCgroup = await cgroups.create(`${cgroupRoot}/node/agent`);
  handles.unshift(agentCgroup);

  stateDir = join(plane.dir, 'state');
  mkdirSync(stateDir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0700', `flotilla-test-${runId}`, stateDir]);
  mounted = true;

  const certificate = plane.nodeCertificate(nodeName, ['127.0.0.4']);
  // prettier-ignore
  spawnIn(agentCgroup, [
    process.execPath, MAIN,
    '--apiserver', `127.0.0.1:${plane.grpcPort ?? 0}`,
    '--node-name', nodeName,
    '--node-ip', '127.0.0.4',
    '--agent-port', String(await freePort()),
    '--state-dir', stateDir,
    '--cgroup-parent', `${cgroupRoot}/node/pods`,
    '--ca-file', plane.caFile,
    '--cert-file', certificate.certFile,
    '--key-file', certificate.keyFile,
    '--bridge-name', bridge,
    '--no-peer-routes',
    '--eviction-hard', 'memory.available<240Mi,nodefs.available<25%',
    '--eviction-pressure-transition-period', '0s',
    '--eviction-monitoring-interval', '500ms',
  ], join(plane.dir, 'agent.log'));

  lifecycle = startNodeLifecycleController({
    client,
    redisUrl,
    queueName: `node-lifecycle-${randomUUID()}`,
    checkIntervalMs: 500,
  });
  scheduler = startScheduler({
    client,
    redisUrl,
    queueName: `scheduler-${randomUUID()}`,
    resyncIntervalMs: 1000,
  });
  await Promise.all([lifecycle.ready, scheduler.ready]);
});

afterAll(async () => {
  await scheduler?.stop();
  await lifecycle?.stop();
  await Promise.all(children.map(stop));
  if (mounted) execFileSync('umount', [stateDir]);
  if (cgroups) {
    const pods = `${cgroupRoot}/node/pods`;
    if (await cgroups.exists(pods)) handles.unshift(await cgroups.open(pods));
    for (const handle of handles) await handle.destroy();
    if (await cgroups.exists(cgroupRoot)) await (await cgroups.open(cgroupRoot)).destroy();
  }
  try {
    execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  } catch {
    // The agent makes its bridge only for pods; none ran here.
  }
  client?.close();
  await plane?.stop();
});

async function nodeState(): Promise<Node | undefined> {
  const result = await plane.request('GET', `/api/v1/nodes/${nodeName}`);
  return result.status === 200 ? result.json<Node>() : undefined;
}

const conditionOf = (
  node: Node | undefined,
  type: string,
): { status: string; reason?: string; message?: string } | undefined =>
  node?.status?.conditions?.find((condition) => condition.type === type);

const hasTaint = (node: Node | undefined, key: string): boolean =>
  (node?.spec?.taints ?? []).some((taint) => taint.key === key && taint.effect === 'NoSchedule');

/** Waits until the Node's condition `type` has `status` and the matching taint is there (or gone). */
async function expectPressure(type: string, taint: string, status: 'True' | 'False'): Promise<Node> {
  return until(
    `${type}=${status} on ${nodeName}, taint ${taint} ${status === 'True' ? 'added' : 'removed'}`,
    async () => {
      const node = await nodeState();
      const tainted = hasTaint(node, taint);
      return conditionOf(node, type)?.status === status && tainted === (status === 'True') ? node : undefined;
    },
    30_000,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}; agent log:\n${agentLog()}`);
  });
}

describe('node pressure', () => {
  it('starts Ready without pressure', async () => {
    const node = await until(
      `${nodeName} Ready`,
      async () => {
        const state = await nodeState();
        return conditionOf(state, 'Ready')?.status === 'True' && state;
      },
      45_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; agent log:\n${agentLog()}`);
    });
    expect(conditionOf(node, 'MemoryPressure')).toMatchObject({
      status: 'False',
      reason: 'KubeletHasSufficientMemory',
    });
    expect(conditionOf(node, 'DiskPressure')).toMatchObject({
      status: 'False',
      reason: 'KubeletHasNoDiskPressure',
    });
    expect(conditionOf(node, 'PIDPressure')).toMatchObject({
      status: 'False',
      reason: 'KubeletHasSufficientPID',
    });
  });

  it('reports MemoryPressure while the node cgroup runs short, keeps a BestEffort pod off, and clears', async () => {
    const filler = await cgroups.create(`${cgroupRoot}/node/filler`);
    handles.unshift(filler);
    // 256Mi of touched anonymous memory in the node's cgroup: 512Mi − 256Mi − the agent < 240Mi.
    const hog = spawnIn(
      filler,
      [
        process.execPath,
        '-e',
        'globalThis.hold = Buffer.alloc(256 * 1024 * 1024, 1); setInterval(() => {}, 60000);',
      ],
      join(plane.dir, 'filler.log'),
    );
    const node = await expectPressure('MemoryPressure', 'node.kubernetes.io/memory-pressure', 'True');
    expect(conditionOf(node, 'MemoryPressure')).toMatchObject({
      reason: 'KubeletHasInsufficientMemory',
      message: 'kubelet has insufficient memory available (memory.available<240Mi)',
    });

    const created = await plane.request('POST', '/api/v1/namespaces/default/pods', {
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `best-effort-${runId}` },
        spec: { containers: [{ name: 'main', image: 'busybox:stable' }] },
      },
    });
    expect(created.status).toBe(201);
    const pending = await until('the BestEffort pod marked unschedulable', async () => {
      const pod = (await plane.request('GET', `/api/v1/namespaces/default/pods/best-effort-${runId}`)).json<{
        spec: { nodeName?: string };
        status?: { conditions?: Array<{ type: string; status: string; message?: string }> };
      }>();
      const scheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
      return scheduled?.status === 'False' ? { pod, scheduled } : undefined;
    });
    expect(pending.pod.spec.nodeName).toBeUndefined();
    expect(pending.scheduled.message).toContain('node.kubernetes.io/memory-pressure');
    const deleted = await plane.request('DELETE', `/api/v1/namespaces/default/pods/best-effort-${runId}`);
    expect(deleted.status).toBe(200);

    await stop(hog);
    const cleared = await expectPressure('MemoryPressure', 'node.kubernetes.io/memory-pressure', 'False');
    expect(conditionOf(cleared, 'MemoryPressure')?.reason).toBe('KubeletHasSufficientMemory');
  });

  it('reports DiskPressure while the state dir is nearly full, and clears when it is freed', async () => {
    const ballast = join(stateDir, `ballast-${runId}`);
    // 56Mi of a 64Mi tmpfs leaves under 25 % free.
    writeFileSync(ballast, Buffer.alloc(56 * Mi, 1));
    try {
      const node = await expectPressure('DiskPressure', 'node.kubernetes.io/disk-pressure', 'True');
      expect(conditionOf(node, 'DiskPressure')).toMatchObject({
        reason: 'KubeletHasDiskPressure',
        message: 'kubelet has disk pressure (nodefs.available<25%)',
      });
    } finally {
      rmSync(ballast, { force: true });
    }
    await expectPressure('DiskPressure', 'node.kubernetes.io/disk-pressure', 'False');
  });
});
