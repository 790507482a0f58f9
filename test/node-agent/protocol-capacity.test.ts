// Capacity comes from the cgroup the agent runs in: two real node-agent processes (dist/apps/node-agent)
// started inside two cgroups this test creates, with different memory and CPU limits, register two
// Nodes with different capacities, minus the reserve in allocatable, and become Ready. Needs root
// (cgroups) and the build (`npx tsc -b tsconfig.build.json`).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node } from '@flotilla/api';
import { freePort } from '@flotilla/cluster';
import { createCgroupManager, type CgroupHandle, type CgroupManager } from '@flotilla/runtime';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';
import { until } from '../support/eventually';

const MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'node-agent', 'src', 'main.js');
const runId = randomBytes(4).toString('hex');
const cgroupRoot = `flotilla-test-protocap-${runId}`;

interface AgentSpec {
  name: string;
  ip: string;
  memoryBytes: number;
  cpuMillicores: number;
}

const specs: AgentSpec[] = [
  { name: `small-${runId}`, ip: '127.0.0.2', memoryBytes: 512 * 1024 * 1024, cpuMillicores: 500 },
  { name: `large-${runId}`, ip: '127.0.0.3', memoryBytes: 768 * 1024 * 1024, cpuMillicores: 1000 },
];

let plane: TestControlPlane;
let cgroups: CgroupManager;
const handles: CgroupHandle[] = [];
const children: ChildProcess[] = [];

const quote = (argument: string): string => `'${argument.replace(/'/g, `'\\''`)}'`;

/** Starts the agent as a process that is in `cgroup` from its first instruction on. */
async function startAgent(spec: AgentSpec, index: number): Promise<void> {
  const node = await cgroups.create(`${cgroupRoot}/${spec.name}`, {
    memoryBytes: spec.memoryBytes,
    cpuMillicores: spec.cpuMillicores,
  });
  handles.unshift(node);
  const agentCgroup = await cgroups.create(`${cgroupRoot}/${spec.name}/agent`);
  handles.unshift(agentCgroup);
  const certificate = plane.nodeCertificate(spec.name, [spec.ip]);
  const stateDir = join(plane.dir, spec.name);
  mkdirSync(stateDir, { recursive: true });
  const log = openSync(join(plane.dir, `${spec.name}.log`), 'a');
  const joinCgroup = agentCgroup.procsFiles.map((file) => `echo $$ > ${quote(file)}`).join(' && ');
  const child = spawn(
    'sh',
    [
      '-c',
      `${joinCgroup} && exec "$@"`,
      'sh',
      process.execPath,
      MAIN,
      '--apiserver',
      `127.0.0.1:${plane.grpcPort ?? 0}`,
      '--node-name',
      spec.name,
      '--node-ip',
      spec.ip,
      '--agent-port',
      String(await freePort()),
      '--state-dir',
      stateDir,
      '--cgroup-parent',
      `${cgroupRoot}/${spec.name}/pods`,
      '--ca-file',
      plane.caFile,
      '--cert-file',
      certificate.certFile,
      '--key-file',
      certificate.keyFile,
      '--reserved-cpu',
      '100m',
      '--reserved-memory',
      '64Mi',
      '--bridge-name',
      `fcap${runId.slice(0, 8)}${index}`,
      '--no-peer-routes',
      '--log-level',
      'info',
    ],
    { stdio: ['ignore', log, log] },
  );
  children.push(child);
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) {
    throw new Error('this test needs root: it creates cgroups with memory and CPU limits for the agents');
  }
  if (!existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing: build first with \`npx tsc -b tsconfig.build.json\``);
  }
  plane = await startTestControlPlane('protocap', { nodeService: true, heartbeatIntervalSeconds: 1 });
  cgroups = await createCgroupManager();
  for (const [index, spec] of specs.entries()) await startAgent(spec, index);
});

afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  // The pods cgroups the agents' engines made, then ours, innermost first.
  for (const spec of specs) {
    const pods = `${cgroupRoot}/${spec.name}/pods`;
    if (cgroups && (await cgroups.exists(pods))) handles.unshift(await cgroups.open(pods));
  }
  for (const handle of handles) await handle.destroy();
  if (cgroups && (await cgroups.exists(cgroupRoot))) await (await cgroups.open(cgroupRoot)).destroy();
  await plane?.stop();
});

async function readyNode(name: string): Promise<Node> {
  return until(
    `node ${name} to register and become Ready`,
    async () => {
      const result = await plane.request('GET', `/api/v1/nodes/${name}`);
      if (result.status !== 200) return undefined;
      const node = result.json<Node>();
      const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready');
      return ready?.status === 'True' && node;
    },
    45_000,
  ).catch((error: unknown) => {
    const log = join(plane.dir, `${name}.log`);
    throw new Error(
      `${String(error)}; agent log:\n${existsSync(log) ? readFileSync(log, 'utf8').slice(-3000) : '(none)'}`,
    );
  });
}

describe('node-agent capacity', () => {
  it('registers each node with the limits of the cgroup its agent runs in, minus the reserve', async () => {
    const small = await readyNode(specs[0]?.name ?? '');
    const large = await readyNode(specs[1]?.name ?? '');
    expect(small.status?.capacity).toMatchObject({ cpu: '500m', memory: '524288Ki', pods: '110' });
    expect(small.status?.allocatable).toMatchObject({ cpu: '400m', memory: '458752Ki', pods: '110' });
    expect(large.status?.capacity).toMatchObject({ cpu: '1', memory: '786432Ki', pods: '110' });
    expect(large.status?.allocatable).toMatchObject({ cpu: '900m', memory: '720896Ki', pods: '110' });
    expect(small.spec?.podCIDR).not.toBe(large.spec?.podCIDR);
    expect(small.status?.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.0.2' });
    expect(small.status?.nodeInfo?.kernelVersion).not.toBe('');
  });
});
