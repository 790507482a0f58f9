// Node hosts on the real kernel: each node is a network namespace on the cluster's LAN bridge with its
// own cgroup limits and state dir; processes started on a node are in both from their first
// instruction; removing a node or the cluster, or sweeping a dead run's cluster, leaves nothing behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isAlive,
  NODE_CLUSTER_RECORDS,
  nodeHostNames,
  openNodeCluster,
  sweepDeadNodeClusters,
  testClusterId,
  type NodeCluster,
  type NodeHost,
} from '@flotilla/cluster';
import { createCgroupManager, readCgroupCapacity } from '@flotilla/runtime';
import { eventually } from '../support/eventually';
import { claimTestDir } from '../support/leftovers';

const MiB = 1024 * 1024;
const BUSYBOX = '/bin/busybox';

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the node host tests create network namespaces, a bridge and cgroups and must run as root (sudo npx jest test/cluster/node-hosts.test.ts)',
    );
  }
}

function namespaces(): string[] {
  try {
    return readdirSync('/var/run/netns');
  } catch {
    return [];
  }
}

function interfaceExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

async function cgroupExists(path: string): Promise<boolean> {
  return (await createCgroupManager()).exists(path);
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe('node hosts', () => {
  const clusterId = testClusterId(process.pid, randomBytes(2).toString('hex'));
  let dir: string;
  let cluster: NodeCluster;
  let small: NodeHost;
  let large: NodeHost;
  const started: ChildProcess[] = [];

  beforeAll(async () => {
    requireRoot();
    dir = mkdtempSync(join(tmpdir(), 'flotilla-node-hosts-'));
    claimTestDir(dir);
    cluster = await openNodeCluster({ clusterId, ownerPid: process.pid });
    small = await cluster.addNode({
      name: 'small',
      stateDir: join(dir, 'small'),
      cpuMillicores: 500,
      memoryBytes: 256 * MiB,
    });
    large = await cluster.addNode({
      name: 'large',
      stateDir: join(dir, 'large'),
      cpuMillicores: 1500,
      memoryBytes: 512 * MiB,
    });
  }, 60_000);

  afterAll(async () => {
    for (const child of started) child.kill('SIGKILL');
    if (cluster && existsSync(join(NODE_CLUSTER_RECORDS, `${clusterId}.json`))) await cluster.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('runs a process in the node cgroup from its first instruction', async () => {
    for (const node of [small, large]) {
      const result = await node.run({ command: BUSYBOX, args: ['cat', '/proc/self/cgroup'] });
      expect(result.exitCode).toBe(0);
      const agentCgroup = `/${nodeHostNames(clusterId, node.name).agentCgroup}`;
      const manager = await createCgroupManager();
      const lines = result.stdout.split('\n');
      if (manager.version === 'v2') {
        expect(lines).toContain(`0::${agentCgroup}`);
      } else {
        expect(lines.some((line) => line.endsWith(`:memory:${agentCgroup}`))).toBe(true);
        expect(lines.some((line) => line.endsWith(`:cpu:${agentCgroup}`))).toBe(true);
      }
    }
  });

  it('gives each node its own address, a route to the host and to the other node', async () => {
    const own = await small.run({
      command: BUSYBOX,
      args: ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'],
    });
    expect(own.stdout).toContain(`inet ${small.address}/24`);
    expect(small.address).not.toBe(large.address);

    // The host's LAN address answers TCP from a node (where the control plane listens).
    const received: string[] = [];
    const server = createServer((socket) =>
      socket.on('data', (data: Buffer) => received.push(data.toString())),
    );
    await new Promise<void>((resolve) => server.listen(0, cluster.hostAddress, resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const sent = await small.run({
        command: BUSYBOX,
        args: ['sh', '-c', `echo hello-from-small | ${BUSYBOX} nc -w 2 ${cluster.hostAddress} ${port}`],
      });
      expect(sent.exitCode).toBe(0);
      await eventually(() => received.join('').includes('hello-from-small'), 'the host to receive a line');
    } finally {
      server.close();
    }

    // Node to node, across the bridge.
    const listener = await large.spawn({ command: BUSYBOX, args: ['nc', '-l', '-p', '7000'] });
    started.push(listener);
    let heard = '';
    listener.stdout?.on('data', (data: Buffer) => (heard += data.toString()));
    const connect = `for i in $(seq 100); do echo hello-from-small | ${BUSYBOX} nc -w 2 ${large.address} 7000 && exit 0; sleep 0.1; done; exit 1`;
    const sent = await small.run({ command: BUSYBOX, args: ['sh', '-c', connect] });
    expect(sent.exitCode).toBe(0);
    // Generous: on a loaded CI machine the listener's output has been seen to take over 10 s.
    await eventually(() => heard.includes('hello-from-small'), 'the large node to receive a line', 30_000);
    expect(await exitOf(listener)).toBe(0);
  });

  it('shows the node its own interfaces in /sys and shares the namespaces and mounts it makes', async () => {
    const sys = await small.run({ command: BUSYBOX, args: ['ls', '/sys/class/net'] });
    expect(sys.stdout.split('\n').filter(Boolean).sort()).toEqual(['eth0', 'lo']);
    const cgroupFs = await small.run({ command: BUSYBOX, args: ['ls', '/sys/fs/cgroup'] });
    expect(cgroupFs.stdout).toMatch(/memory|cgroup\.controllers/);

    // Pod namespaces and pod volumes an agent makes must outlive it and be seen by its successor.
    const podNamespace = `fln-${clusterId}-probe`;
    const volume = join(small.record.stateDir, 'volume');
    mkdirSync(volume);
    const made = await small.run({
      command: '/bin/sh',
      args: ['-c', `ip netns add ${podNamespace} && mount -t tmpfs tmpfs ${volume}`],
    });
    expect(made.stderr).toBe('');
    try {
      expect(namespaces()).toContain(podNamespace);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(` ${volume} `);
      const seen = await small.run({
        command: BUSYBOX,
        args: ['sh', '-c', `grep -c ' ${volume} ' /proc/self/mountinfo`],
      });
      expect(seen.stdout.trim()).toBe('1');
    } finally {
      if (namespaces().includes(podNamespace)) execFileSync('ip', ['netns', 'delete', podNamespace]);
      execFileSync('umount', ['-l', volume], { stdio: 'ignore' });
    }
  });

  it('reads back different limits on each node', async () => {
    const capacities = [];
    for (const node of [small, large]) {
      const sleeper = await node.spawn({ command: BUSYBOX, args: ['sleep', '60'] });
      started.push(sleeper);
      await eventually(() => (sleeper.pid ?? 0) > 0, 'the sleeper to start');
      // The wrapper shell joins the cgroup before it execs sleep; wait for the exec.
      let capacity = await readCgroupCapacity({ procCgroupFile: `/proc/${sleeper.pid}/cgroup` });
      for (let i = 0; i < 100 && capacity.memorySource !== 'cgroup'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        capacity = await readCgroupCapacity({ procCgroupFile: `/proc/${sleeper.pid}/cgroup` });
      }
      capacities.push(capacity);
      sleeper.kill('SIGKILL');
    }
    expect(capacities.map((c) => [c.memoryBytes, c.memorySource])).toEqual([
      [256 * MiB, 'cgroup'],
      [512 * MiB, 'cgroup'],
    ]);
    expect(capacities.map((c) => c.cpuMillicores)).toEqual([500, 1500]);
  });

  it('removes a node with its processes, pod cgroups, pod namespaces, mounts and state dir', async () => {
    const doomed = await cluster.addNode({
      name: 'doomed',
      stateDir: join(dir, 'doomed'),
      memoryBytes: 128 * MiB,
    });
    const names = nodeHostNames(clusterId, 'doomed');
    // An "agent" on the node, and a "container" in a pod cgroup below the node (as the engine runs pods).
    const agent = await doomed.spawn({ command: BUSYBOX, args: ['sleep', '600'] });
    started.push(agent);
    const manager = await createCgroupManager();
    const pod = await manager.create(`${names.podsCgroup}/pod-1`);
    const container = spawn(BUSYBOX, ['sleep', '600'], { stdio: 'ignore' });
    started.push(container);
    await pod.addProcess(container.pid ?? 0);
    // A pod namespace the agent's bridge network recorded, and a mount under the state dir.
    const podNamespace = `fln-${clusterId}-doomedpod`;
    const attachments = join(doomed.record.stateDir, 'networks', 'flotilla', 'attachments');
    mkdirSync(attachments, { recursive: true });
    writeFileSync(
      join(attachments, 'c1.json'),
      JSON.stringify({ containerId: 'c1', namespaceName: podNamespace }),
    );
    execFileSync('ip', ['netns', 'add', podNamespace]);
    const mountPoint = join(doomed.record.stateDir, 'overlay');
    mkdirSync(mountPoint);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', mountPoint]);
    await eventually(() => isAlive(agent.pid ?? 0), 'the agent to run');
    expect((await doomed.processes()).length).toBeGreaterThanOrEqual(2);

    await cluster.removeNode('doomed');

    expect(isAlive(agent.pid ?? 0)).toBe(false);
    expect(isAlive(container.pid ?? 0)).toBe(false);
    expect(namespaces()).not.toContain(names.namespace);
    expect(namespaces()).not.toContain(podNamespace);
    expect(interfaceExists(names.hostVeth)).toBe(false);
    expect(await cgroupExists(names.cgroup)).toBe(false);
    expect(existsSync(doomed.record.stateDir)).toBe(false);
    expect(cluster.node('doomed')).toBeUndefined();
    // The others are untouched.
    expect(namespaces()).toContain(nodeHostNames(clusterId, 'small').namespace);
  });

  it('destroys the whole cluster: nodes, bridge, cgroups and record', async () => {
    const bridge = cluster.lan.bridge;
    const nodes = [small, large].map((node) => nodeHostNames(clusterId, node.name));
    await cluster.destroy();
    for (const names of nodes) {
      expect(namespaces()).not.toContain(names.namespace);
      expect(interfaceExists(names.hostVeth)).toBe(false);
    }
    expect(interfaceExists(bridge)).toBe(false);
    expect(await cgroupExists(`flotilla-nodes-${clusterId}`)).toBe(false);
    expect(existsSync(join(NODE_CLUSTER_RECORDS, `${clusterId}.json`))).toBe(false);
  });

  it('sweeps the cluster of a dead run, leaving live ones alone', async () => {
    const dead = spawn('true');
    await exitOf(dead);
    const deadId = testClusterId(dead.pid ?? 0, randomBytes(2).toString('hex'));
    const liveId = testClusterId(process.pid, randomBytes(2).toString('hex'));
    const crashed = await openNodeCluster({ clusterId: deadId, ownerPid: dead.pid ?? 0 });
    const live = await openNodeCluster({ clusterId: liveId, ownerPid: process.pid });
    try {
      const orphan = await crashed.addNode({
        name: 'orphan',
        stateDir: join(dir, 'orphan'),
        memoryBytes: 64 * MiB,
      });
      const leftover = await orphan.spawn({ command: BUSYBOX, args: ['sleep', '600'] });
      started.push(leftover);
      await eventually(() => isAlive(leftover.pid ?? 0), 'the leftover to run');
      const bridge = crashed.lan.bridge;

      const swept = await sweepDeadNodeClusters();

      expect(swept).toContain(deadId);
      expect(swept).not.toContain(liveId);
      await eventually(() => !isAlive(leftover.pid ?? 0), 'the leftover process to die');
      expect(namespaces()).not.toContain(nodeHostNames(deadId, 'orphan').namespace);
      expect(interfaceExists(bridge)).toBe(false);
      expect(await cgroupExists(`flotilla-nodes-${deadId}`)).toBe(false);
      expect(interfaceExists(live.lan.bridge)).toBe(true);
    } finally {
      await live.destroy();
    }
  });
});
