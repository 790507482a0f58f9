// A cluster of node hosts: one LAN bridge and N node hosts, recorded in /run/flotilla/node-clusters
// (tmpfs: a reboot clears the records together with the namespaces, bridges and cgroups they name).
// Every object is recorded before it is created, so whatever a crash leaves behind is found again:
// `flotilla down` removes a user's cluster by its record, and the test sweeper removes every test
// cluster whose owning process is dead (test cluster ids carry the owner's pid).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCgroupManager, runCommand } from '@flotilla/runtime';
import { isAlive } from '../processes/supervised-process';
import { withHostLock } from './host-file-lock';
import {
  blocksTakenBy,
  lanNodeAddress,
  lanNodeIndex,
  lanSubnet,
  MAX_NODES_PER_LAN,
  pickLanBlock,
} from './lan-addressing.util';
import { createNodeHost, NodeHost, removeNodeHost, type NodeHostRecord } from './node-host';
import {
  checkClusterId,
  checkNodeName,
  clusterCgroupName,
  nodeHostNames,
  ownerOfTestClusterId,
} from './node-host-names.util';
import { createNodeLan, hostIpv4Cidrs, removeNodeLan, type NodeLanRecord } from './node-lan.network';

export const NODE_CLUSTER_RECORDS = '/run/flotilla/node-clusters';

export interface NodeClusterRecord {
  readonly version: 1;
  readonly clusterId: string;
  /** A test run's pid: once it is dead the sweeper removes the cluster. Absent for a user's cluster. */
  readonly ownerPid?: number;
  /** Chosen before the bridge exists; `lan` is filled in once it does. */
  readonly block: number;
  readonly lan?: NodeLanRecord;
  readonly nodes: Readonly<Record<string, NodeHostRecord>>;
}

export interface OpenNodeClusterOptions {
  readonly clusterId: string;
  /** Set for test clusters, so the sweeper can remove them when their process dies. */
  readonly ownerPid?: number;
  /** The LAN block to try first (172.31.<block>.0/24); default: derived from the cluster id. */
  readonly preferredBlock?: number;
}

export interface AddNodeOptions {
  readonly name: string;
  readonly stateDir: string;
  readonly cpuMillicores?: number;
  readonly memoryBytes?: number;
}

function recordFile(clusterId: string): string {
  return join(NODE_CLUSTER_RECORDS, `${clusterId}.json`);
}

const LOCK_FILE = join(NODE_CLUSTER_RECORDS, '.lock');

function readRecord(clusterId: string): NodeClusterRecord | undefined {
  const file = recordFile(clusterId);
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<NodeClusterRecord>;
  if (parsed.version !== 1 || parsed.clusterId !== clusterId || typeof parsed.block !== 'number') {
    throw new Error(
      `${file} is not a node cluster record this flotilla understands; remove the cluster's namespaces and bridge by hand, then the file`,
    );
  }
  return parsed as NodeClusterRecord;
}

function writeRecord(record: NodeClusterRecord): void {
  mkdirSync(NODE_CLUSTER_RECORDS, { recursive: true, mode: 0o700 });
  const file = recordFile(record.clusterId);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

function allRecords(): NodeClusterRecord[] {
  let files: string[];
  try {
    files = readdirSync(NODE_CLUSTER_RECORDS);
  } catch {
    return [];
  }
  const records: NodeClusterRecord[] = [];
  for (const file of files.filter((name) => name.endsWith('.json'))) {
    try {
      const record = readRecord(file.slice(0, -'.json'.length));
      if (record) records.push(record);
    } catch {
      // An unreadable record is reported when its own cluster is opened.
    }
  }
  return records;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('node hosts need root (network namespaces, a bridge, cgroups): run as root or with sudo');
  }
}

/** Opens the cluster's LAN, creating it on first use; safe to call again (a second `flotilla up`). */
export async function openNodeCluster(options: OpenNodeClusterOptions): Promise<NodeCluster> {
  requireRoot();
  checkClusterId(options.clusterId);
  const record = await withHostLock(LOCK_FILE, async () => {
    let current = readRecord(options.clusterId);
    if (current === undefined) {
      const taken = blocksTakenBy(await hostIpv4Cidrs());
      for (const other of allRecords()) taken.add(other.block);
      const preferred =
        options.preferredBlock ?? createHash('sha256').update(options.clusterId).digest().readUInt8(0);
      const block = pickLanBlock({ preferred, taken });
      if (block === undefined) {
        throw new Error(
          'every 172.31.x.0/24 block is in use on this host; remove stale clusters (flotilla down, or sweep test leftovers) and retry',
        );
      }
      current = {
        version: 1,
        clusterId: options.clusterId,
        ...(options.ownerPid !== undefined ? { ownerPid: options.ownerPid } : {}),
        block,
        nodes: {},
      };
      writeRecord(current);
    }
    const lan = await createNodeLan({ clusterId: options.clusterId, block: current.block });
    current = { ...current, lan };
    writeRecord(current);
    return current;
  });
  return new NodeCluster(record.clusterId);
}

/** The recorded cluster, if there is one (for `flotilla down` and status). */
export function readNodeCluster(clusterId: string): NodeClusterRecord | undefined {
  checkClusterId(clusterId);
  return readRecord(clusterId);
}

export class NodeCluster {
  constructor(readonly clusterId: string) {}

  get record(): NodeClusterRecord {
    const record = readRecord(this.clusterId);
    if (record === undefined) throw new Error(`node cluster ${this.clusterId} has been removed`);
    return record;
  }

  get lan(): NodeLanRecord {
    const { lan } = this.record;
    if (lan === undefined) throw new Error(`node cluster ${this.clusterId} has no LAN yet`);
    return lan;
  }

  /** The host's own address on the LAN: where the control plane listens for the nodes. */
  get hostAddress(): string {
    return this.lan.gateway;
  }

  get subnet(): string {
    return lanSubnet(this.record.block);
  }

  nodes(): NodeHost[] {
    return Object.values(this.record.nodes).map((node) => new NodeHost(node));
  }

  node(name: string): NodeHost | undefined {
    const record = this.record.nodes[name];
    return record === undefined ? undefined : new NodeHost(record);
  }

  /** Builds a node host with the next free LAN address. */
  async addNode(options: AddNodeOptions): Promise<NodeHost> {
    checkNodeName(options.name);
    const record = await withHostLock(LOCK_FILE, () => {
      const cluster = this.record;
      if (cluster.nodes[options.name] !== undefined) {
        throw new Error(`node ${options.name} already exists in cluster ${this.clusterId}; remove it first`);
      }
      const used = new Set(
        Object.values(cluster.nodes).map((node) => lanNodeIndex(cluster.block, node.address)),
      );
      let index = 0;
      while (used.has(index)) index++;
      if (index >= MAX_NODES_PER_LAN)
        throw new Error(`cluster ${this.clusterId} has no LAN address left for another node`);
      const lan = this.lan;
      const node: NodeHostRecord = {
        clusterId: this.clusterId,
        name: options.name,
        address: lanNodeAddress(cluster.block, index),
        gateway: lan.gateway,
        // Recorded before anything exists, so a crash half-way is still swept.
        ...pendingNames(this.clusterId, options),
      };
      writeRecord({ ...cluster, nodes: { ...cluster.nodes, [options.name]: node } });
      return Promise.resolve(node);
    });
    try {
      return await createNodeHost({
        clusterId: this.clusterId,
        name: options.name,
        address: record.address,
        lan: this.lan,
        stateDir: options.stateDir,
        ...(options.cpuMillicores !== undefined ? { cpuMillicores: options.cpuMillicores } : {}),
        ...(options.memoryBytes !== undefined ? { memoryBytes: options.memoryBytes } : {}),
      });
    } catch (error) {
      await this.forget(options.name);
      throw error;
    }
  }

  /** Removes a node host and everything on it. */
  async removeNode(name: string): Promise<void> {
    const node = this.record.nodes[name];
    if (node === undefined) return;
    await removeNodeHost(node);
    await this.forget(name);
  }

  /** Removes every node, the LAN and the cluster's cgroup, then the record. */
  async destroy(): Promise<void> {
    await destroyByRecord(this.record);
  }

  private forget(name: string): Promise<void> {
    return withHostLock(LOCK_FILE, () => {
      const cluster = readRecord(this.clusterId);
      if (cluster === undefined) return Promise.resolve();
      const nodes = { ...cluster.nodes };
      delete nodes[name];
      writeRecord({ ...cluster, nodes });
      return Promise.resolve();
    });
  }
}

function pendingNames(
  clusterId: string,
  options: AddNodeOptions,
): Omit<NodeHostRecord, 'clusterId' | 'name' | 'address' | 'gateway'> {
  const { namespace, hostVeth, cgroup, agentCgroup, podsCgroup } = nodeHostNames(clusterId, options.name);
  return {
    namespace,
    hostVeth,
    cgroup,
    agentCgroup,
    podsCgroup,
    stateDir: options.stateDir,
    ...(options.cpuMillicores !== undefined ? { cpuMillicores: options.cpuMillicores } : {}),
    ...(options.memoryBytes !== undefined ? { memoryBytes: options.memoryBytes } : {}),
  };
}

async function destroyByRecord(record: NodeClusterRecord): Promise<void> {
  const problems: string[] = [];
  for (const node of Object.values(record.nodes)) {
    try {
      await removeNodeHost(node);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  try {
    const cgroups = await createCgroupManager();
    const top = clusterCgroupName(record.clusterId);
    if (await cgroups.exists(top)) await (await cgroups.open(top)).destroy();
  } catch (error) {
    problems.push(`the cluster cgroup: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (record.lan) {
    try {
      await removeNodeLan(record.lan);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (problems.length > 0) {
    // The record stays, so the next removal or sweep tries again.
    throw new Error(`node cluster ${record.clusterId} was not removed completely: ${problems.join('; ')}`);
  }
  rmSync(recordFile(record.clusterId), { force: true });
}

/** Removes a recorded cluster by id; one that is not recorded is already gone. */
export async function destroyNodeCluster(clusterId: string): Promise<void> {
  checkClusterId(clusterId);
  const record = readRecord(clusterId);
  if (record !== undefined) await destroyByRecord(record);
}

/**
 * Removes every test cluster whose owner process is dead: recorded ones by their record, and
 * namespaces and cgroups named after a dead test cluster that no record mentions any more.
 * Returns the cluster ids it removed. A user's cluster (no owner) is never touched.
 */
export async function sweepDeadNodeClusters(): Promise<string[]> {
  const swept = new Set<string>();
  const dead = (clusterId: string, ownerPid?: number): boolean => {
    const owner = ownerPid ?? ownerOfTestClusterId(clusterId);
    return owner !== undefined && !isAlive(owner);
  };
  for (const record of allRecords()) {
    if (!dead(record.clusterId, record.ownerPid)) continue;
    await destroyByRecord(record);
    swept.add(record.clusterId);
  }
  const namespaces = await runCommand('ip', ['netns', 'list']).catch(() => undefined);
  for (const line of namespaces?.stdout.split('\n') ?? []) {
    const name = line.split(' ')[0] ?? '';
    const match = /^fln-([a-z0-9]+)-/.exec(name);
    if (!match?.[1] || !dead(match[1])) continue;
    const pids = await runCommand('ip', ['netns', 'pids', name]);
    for (const pid of pids.stdout.split('\n').filter((entry) => /^\d+$/.test(entry))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await runCommand('ip', ['netns', 'delete', name]);
    swept.add(match[1]);
  }
  const cgroups = await createCgroupManager().catch(() => undefined);
  if (cgroups) {
    const hierarchies =
      cgroups.version === 'v2'
        ? [cgroups.root]
        : safeDirs(cgroups.root).map((name) => join(cgroups.root, name));
    const tops = new Set<string>();
    for (const hierarchy of hierarchies) {
      for (const name of safeDirs(hierarchy)) {
        const match = /^flotilla-nodes-([a-z0-9]+)$/.exec(name);
        if (match?.[1] && dead(match[1])) tops.add(name);
      }
    }
    for (const top of tops) {
      if (await cgroups.exists(top)) await (await cgroups.open(top)).destroy();
      swept.add(top.slice('flotilla-nodes-'.length));
    }
  }
  return [...swept];
}

function safeDirs(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    return [];
  }
}
