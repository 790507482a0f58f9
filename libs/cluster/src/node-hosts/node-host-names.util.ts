// Every kernel object of a cluster of node hosts is named from its cluster id, so two clusters (two test
// files, a test run beside a user's `flotilla up`) never collide, and a sweeper can tell whose is whose.
// Worked example: cluster "t1a2bx3f" and node "node-1" give the namespace "fln-t1a2bx3f-node-1", the
// cgroup "flotilla-nodes-t1a2bx3f/node-1" with the agent in ".../agent" and pods under ".../pods", the
// LAN bridge "flb" + 12 hex digits of sha256("t1a2bx3f") and the host-side veth "fle" + 12 hex digits
// of sha256("t1a2bx3f/node-1") (interface names have at most 15 characters).
import { createHash } from 'node:crypto';

const CLUSTER_ID_PATTERN = /^[a-z0-9]{1,20}$/;
const NODE_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAMESPACE_NAME_LIMIT = 63;

export interface NodeHostNames {
  /** The network namespace, as `ip netns` names it. */
  readonly namespace: string;
  /** The host end of the node's veth pair, on the LAN bridge; the node's end is eth0 inside. */
  readonly hostVeth: string;
  /** The node's cgroup, carrying its cpu and memory limits. */
  readonly cgroup: string;
  /** Where the node's processes (the agent) run: a leaf, so pods may get controllers beside it (v2). */
  readonly agentCgroup: string;
  /** The parent of the node's pod cgroups. */
  readonly podsCgroup: string;
}

export function checkClusterId(clusterId: string): void {
  if (!CLUSTER_ID_PATTERN.test(clusterId)) {
    throw new Error(
      `cluster id ${JSON.stringify(clusterId)} must be 1-20 lower-case letters or digits (it names namespaces, bridges and cgroups)`,
    );
  }
}

export function checkNodeName(name: string): void {
  if (!NODE_NAME_PATTERN.test(name)) {
    throw new Error(
      `node name ${JSON.stringify(name)} must be a DNS label: at most 63 lower-case letters, digits or "-", starting and ending with a letter or digit`,
    );
  }
}

function hex(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

export function clusterCgroupName(clusterId: string): string {
  checkClusterId(clusterId);
  return `flotilla-nodes-${clusterId}`;
}

export function lanBridgeName(clusterId: string): string {
  checkClusterId(clusterId);
  return `flb${hex(clusterId, 12)}`;
}

export function nodeHostNames(clusterId: string, nodeName: string): NodeHostNames {
  checkClusterId(clusterId);
  checkNodeName(nodeName);
  const plain = `fln-${clusterId}-${nodeName}`;
  const namespace =
    plain.length <= NAMESPACE_NAME_LIMIT ? plain : `fln-${clusterId}-${hex(`${clusterId}/${nodeName}`, 16)}`;
  const cgroup = `${clusterCgroupName(clusterId)}/${nodeName}`;
  return {
    namespace,
    hostVeth: `fle${hex(`${clusterId}/${nodeName}`, 12)}`,
    cgroup,
    agentCgroup: `${cgroup}/agent`,
    podsCgroup: `${cgroup}/pods`,
  };
}

/**
 * A cluster id for a test run: the owner's pid and a random hex suffix, so a sweeper can also
 * recognise a dead run's objects by name alone.
 */
export function testClusterId(pid: number, randomHex: string): string {
  const id = `t${pid}x${randomHex.toLowerCase().replace(/[^0-9a-f]/g, '')}`.slice(0, 20);
  checkClusterId(id);
  return id;
}

/** The owner pid a test cluster id carries, or undefined for other ids (a user's cluster). */
export function ownerOfTestClusterId(clusterId: string): number | undefined {
  const match = /^t(\d+)x[0-9a-f]*$/.exec(clusterId);
  if (!match?.[1]) return undefined;
  const pid = Number(match[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}
