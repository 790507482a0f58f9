// One node host: what makes a process on this machine look like a separate machine to the cluster.
// A network namespace with its own address on the cluster's LAN bridge (a veth pair, loopback up,
// default route via the host's bridge address), its own cgroup with the node's cpu and memory limits,
// and its own state dir. Processes started here are in the namespace and the cgroup from their first
// instruction: the agent reads its capacity from its own cgroup, so it must never run outside it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  createCgroupManager,
  namespacePath,
  runChecked,
  runCommand,
  type CgroupLimits,
} from '@flotilla/runtime';
import { requireBinary } from '../components/binaries';
import { sleep, startDetached, type StartedProcess } from '../processes/supervised-process';
import { LAN_PREFIX_LENGTH } from './lan-addressing.util';
import { nodeHostNames } from './node-host-names.util';
import type { NodeLanRecord } from './node-lan.network';

export interface NodeHostRecord {
  readonly clusterId: string;
  readonly name: string;
  /** The node's address on the LAN. */
  readonly address: string;
  readonly gateway: string;
  readonly namespace: string;
  readonly hostVeth: string;
  readonly cgroup: string;
  readonly agentCgroup: string;
  readonly podsCgroup: string;
  readonly stateDir: string;
  readonly cpuMillicores?: number;
  readonly memoryBytes?: number;
}

export interface NodeHostSpec {
  readonly clusterId: string;
  readonly name: string;
  readonly address: string;
  readonly lan: NodeLanRecord;
  readonly stateDir: string;
  /** The node's CPU cap (1000 = one CPU); absent: the host's. */
  readonly cpuMillicores?: number;
  /** The node's memory cap in bytes; absent: the host's. */
  readonly memoryBytes?: number;
}

export interface NodeProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface NodeRunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Builds the node host; a half-built one is torn down again before the error is thrown. */
export async function createNodeHost(spec: NodeHostSpec): Promise<NodeHost> {
  requireBinary('nsenter', 'util-linux');
  requireBinary('unshare', 'util-linux');
  const names = nodeHostNames(spec.clusterId, spec.name);
  const record: NodeHostRecord = {
    clusterId: spec.clusterId,
    name: spec.name,
    address: spec.address,
    gateway: spec.lan.gateway,
    ...names,
    stateDir: spec.stateDir,
    ...(spec.cpuMillicores !== undefined ? { cpuMillicores: spec.cpuMillicores } : {}),
    ...(spec.memoryBytes !== undefined ? { memoryBytes: spec.memoryBytes } : {}),
  };
  try {
    await createNodeNetwork(record, spec.lan);
    const cgroups = await createCgroupManager();
    const limits: CgroupLimits = {
      ...(spec.cpuMillicores !== undefined ? { cpuMillicores: spec.cpuMillicores } : {}),
      ...(spec.memoryBytes !== undefined ? { memoryBytes: spec.memoryBytes } : {}),
    };
    await cgroups.create(record.cgroup, limits);
    await cgroups.create(record.agentCgroup);
    mkdirSync(record.stateDir, { recursive: true, mode: 0o700 });
    await shareStateDir(record.stateDir);
  } catch (error) {
    await removeNodeHost(record).catch(() => undefined);
    throw error;
  }
  return new NodeHost(record);
}

async function createNodeNetwork(record: NodeHostRecord, lan: NodeLanRecord): Promise<void> {
  const existing = await runCommand('ip', ['netns', 'list']);
  if (existing.stdout.split('\n').some((line) => line.split(' ')[0] === record.namespace)) {
    throw new Error(
      `network namespace ${record.namespace} already exists: node ${record.name} of cluster ${record.clusterId} is up (remove it first, or run the sweeper if its cluster died)`,
    );
  }
  // The node's end is created inside the namespace as eth0, so it never exists on the host under a
  // name that could clash.
  const hostSide = [
    `netns add ${record.namespace}`,
    `link add name ${record.hostVeth} type veth peer name eth0 netns ${record.namespace}`,
    `link set ${record.hostVeth} master ${lan.bridge}`,
    `link set ${record.hostVeth} up`,
  ];
  await runChecked(`creating node host ${record.name}`, 'ip', ['-batch', '-'], `${hostSide.join('\n')}\n`);
  const nodeSide = [
    'link set lo up',
    `addr add ${record.address}/${LAN_PREFIX_LENGTH} dev eth0`,
    'link set eth0 up',
    `route add default via ${record.gateway} dev eth0`,
  ];
  await runChecked(
    `configuring the network of node host ${record.name}`,
    'ip',
    ['-n', record.namespace, '-batch', '-'],
    `${nodeSide.join('\n')}\n`,
  );
}

/**
 * The state dir becomes a shared mount point, so that mounts the agent makes below it from its own
 * mount namespace (pod volumes) are seen by the host (which removes them) and by the next agent.
 */
async function shareStateDir(stateDir: string): Promise<void> {
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === stateDir);
  if (!mounted) await runChecked('binding the node state dir', 'mount', ['--bind', stateDir, stateDir]);
  await runChecked('sharing the node state dir', 'mount', ['--make-shared', stateDir]);
}

export class NodeHost {
  constructor(readonly record: NodeHostRecord) {}

  get name(): string {
    return this.record.name;
  }

  get address(): string {
    return this.record.address;
  }

  /** Starts a long-running process (the agent) detached, with its output appended to logFile. */
  async startDetached(
    spec: NodeProcessSpec & { readonly name: string; readonly logFile: string },
  ): Promise<StartedProcess> {
    const { command, args } = await this.wrap(spec);
    return startDetached({
      name: spec.name,
      command,
      args,
      logFile: spec.logFile,
      ...(spec.env ? { env: spec.env } : {}),
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
    });
  }

  /** Starts a process attached to the caller (for tests and one-off commands). */
  async spawn(spec: NodeProcessSpec): Promise<ChildProcess> {
    const { command, args } = await this.wrap(spec);
    return spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
    });
  }

  /** Runs a command on the node to completion. */
  async run(spec: NodeProcessSpec & { readonly timeoutMs?: number }): Promise<NodeRunResult> {
    const child = await this.spawn(spec);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), spec.timeoutMs ?? 30_000);
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    }).finally(() => clearTimeout(timer));
    return {
      exitCode,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
    };
  }

  /** Every process in the node's cgroup tree: the agent, shims and containers. */
  async processes(): Promise<number[]> {
    const cgroups = await createCgroupManager();
    if (!(await cgroups.exists(this.record.cgroup))) return [];
    return processesUnder(cgroups.root, cgroups.version, this.record.cgroup);
  }

  /** Removes the node host and everything that runs on it. */
  remove(): Promise<void> {
    return removeNodeHost(this.record);
  }

  /**
   * nsenter joins the network namespace and execs unshare, which execs sh in a mount namespace of its
   * own, all with the same pid. sh first writes that pid into the agent cgroup (every v1 hierarchy),
   * then gives the node its own /sys: sysfs shows the network devices of the namespace that mounts
   * it, so without a fresh one the agent would see the host's interfaces in /sys/class/net (what
   * `ip netns exec` remounts /sys for). The host's cgroup mounts are bound back over the new
   * /sys/fs/cgroup through a descriptor opened before (--no-canonicalize, or mount would resolve the
   * descriptor back to the hidden path). /sys is made a slave first so none of this reaches the
   * host; every other mount keeps its propagation, so network namespaces the agent creates under
   * /run/netns and mounts in its shared state dir are visible to the host and to the next agent.
   * Nothing of the command runs before all of that, and a failure ends the process before it starts.
   */
  private async wrap(spec: NodeProcessSpec): Promise<{ command: string; args: string[] }> {
    const cgroups = await createCgroupManager();
    const handle = await cgroups.open(this.record.agentCgroup);
    const script = [
      ...handle.procsFiles.map((file) => `echo $$ > '${file}'`),
      'exec 3</sys/fs/cgroup',
      'mount --make-rslave /sys',
      'mount -t sysfs sysfs /sys',
      'mount --no-canonicalize --rbind /proc/self/fd/3 /sys/fs/cgroup',
      'exec 3<&-',
      'exec "$@"',
    ].join(' && ');
    return {
      command: 'nsenter',
      args: [
        `--net=${namespacePath(this.record.namespace)}`,
        '--',
        'unshare',
        '--mount',
        '--propagation',
        'unchanged',
        '--',
        '/bin/sh',
        '-c',
        script,
        `flotilla-node-${this.record.name}`,
        spec.command,
        ...spec.args,
      ],
    };
  }
}

function processesUnder(root: string, version: 'v1' | 'v2', cgroup: string): number[] {
  // v1: the memory hierarchy holds every process we put anywhere in the node (each joins all of them).
  const top = version === 'v2' ? join(root, cgroup) : join(root, 'memory', cgroup);
  const pids = new Set<number>();
  const walk = (directory: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(directory);
    } catch {
      return;
    }
    try {
      for (const line of readFileSync(join(directory, 'cgroup.procs'), 'utf8').split('\n')) {
        if (/^\d+$/.test(line)) pids.add(Number(line));
      }
    } catch {
      // Removed while we looked.
    }
    for (const entry of entries) {
      const child = join(directory, entry);
      if (existsSync(join(child, 'cgroup.procs'))) walk(child);
    }
  };
  walk(top);
  return [...pids].sort((a, b) => a - b);
}

/**
 * Tears a node host down, in an order where nothing holds on to what comes next: every process in
 * the node's cgroups (agent, shims, containers) and namespace is killed and the cgroups removed; the
 * pods' network namespaces the agent recorded in its state dir are deleted; mounts under the state dir
 * are detached; then the node's namespace (with its end of the veth), the host-side veth and the state
 * dir go. Safe to repeat, and after a half-built host.
 */
export async function removeNodeHost(record: NodeHostRecord): Promise<void> {
  const problems: string[] = [];
  const attempt = async (what: string, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  await attempt('killing its processes', () => killNamespaceProcesses(record.namespace));
  await attempt('removing its cgroups', async () => {
    const cgroups = await createCgroupManager();
    if (await cgroups.exists(record.cgroup)) await (await cgroups.open(record.cgroup)).destroy();
  });
  await attempt('deleting its pods’ network namespaces', () => deletePodNamespaces(record.stateDir));
  await attempt('unmounting its state dir', () => unmountUnder(record.stateDir));
  await attempt('deleting its network namespace', async () => {
    const result = await runCommand('ip', ['netns', 'delete', record.namespace]);
    if (result.exitCode !== 0 && existsSync(namespacePath(record.namespace))) {
      throw new Error(result.stderr.trim());
    }
  });
  await attempt('deleting its veth', async () => {
    const result = await runCommand('ip', ['link', 'delete', record.hostVeth]);
    if (result.exitCode !== 0 && existsSync(`/sys/class/net/${record.hostVeth}`)) {
      throw new Error(result.stderr.trim());
    }
  });
  await attempt('removing its state dir', () => {
    rmSync(record.stateDir, { recursive: true, force: true });
    return Promise.resolve();
  });
  if (problems.length > 0) {
    throw new Error(
      `node host ${record.name} of cluster ${record.clusterId} was not removed completely: ${problems.join('; ')}. Run the removal again (flotilla down, or the test sweeper)`,
    );
  }
}

async function killNamespaceProcesses(namespace: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (existsSync(namespacePath(namespace))) {
    const result = await runCommand('ip', ['netns', 'pids', namespace]);
    const pids = result.stdout
      .split('\n')
      .filter((line) => /^\d+$/.test(line))
      .map(Number);
    if (pids.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`processes ${pids.join(', ')} in ${namespace} survive SIGKILL (stuck in D state?)`);
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await sleep(50);
  }
}

/** Named namespaces of the node's pods, as the runtime's bridge network records its attachments. */
async function deletePodNamespaces(stateDir: string): Promise<void> {
  const networkDirs = [join(stateDir, 'networks')];
  for (const entry of safeReaddir(stateDir)) networkDirs.push(join(stateDir, entry, 'networks'));
  for (const networks of networkDirs) {
    for (const network of safeReaddir(networks)) {
      const attachments = join(networks, network, 'attachments');
      for (const file of safeReaddir(attachments).filter((name) => name.endsWith('.json'))) {
        let namespaceName: unknown;
        try {
          namespaceName = (
            JSON.parse(readFileSync(join(attachments, file), 'utf8')) as { namespaceName?: unknown }
          ).namespaceName;
        } catch {
          continue;
        }
        if (typeof namespaceName !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(namespaceName))
          continue;
        if (!existsSync(namespacePath(namespaceName))) continue;
        await killNamespaceProcesses(namespaceName);
        await runCommand('ip', ['netns', 'delete', namespaceName]);
      }
    }
  }
}

function safeReaddir(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    return [];
  }
}

/** Lazily detaches every mount at or below the directory, deepest first. */
async function unmountUnder(directory: string): Promise<void> {
  const mountPoints = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    .map((point) =>
      point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
    )
    .filter((point) => point === directory || point.startsWith(`${directory}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mountPoints) {
    const result = await runCommand('umount', ['-l', point]);
    if (result.exitCode !== 0 && !/not mounted|no mount point/i.test(result.stderr)) {
      throw new Error(`umount ${point}: ${result.stderr.trim()}`);
    }
  }
}
