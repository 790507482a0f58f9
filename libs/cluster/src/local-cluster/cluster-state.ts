// What a running local cluster is made of, kept in <home>/cluster.json so `down`, `status` and a
// second `up` find the same processes and ports.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface ComponentRecord {
  readonly pid: number;
  readonly logFile: string;
  readonly url?: string;
}

export interface ClusterState {
  readonly version: 1;
  readonly ports: ClusterPorts;
  readonly components: Record<string, ComponentRecord>;
  /** The node hosts of `flotilla up --nodes N`; kept so a later `up` reuses the same LAN and names. */
  readonly nodeHosts?: NodeHostsState;
  /** host:port of the cluster's image registry: where `flotilla image push` goes by default. */
  readonly registry?: string;
}

export interface NodeHostsState {
  readonly clusterId: string;
  /** The LAN block (172.31.<block>.0/24) the cluster had, asked for again after a reboot. */
  readonly block: number;
  /** The host's address on the LAN, where the control plane and registry listen. */
  readonly hostAddress: string;
  readonly nodes: readonly UpNodeSpec[];
}

export interface UpNodeSpec {
  readonly name: string;
  readonly cpuMillicores?: number;
  readonly memoryBytes?: number;
}

export interface ClusterPorts {
  readonly apiserver: number;
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly redis: number;
  /** The registry's port on the node LAN address (only with node hosts). */
  readonly registry: number;
}

export const DEFAULT_PORTS: ClusterPorts = {
  apiserver: 6443,
  // Off the standard ports so a packaged etcd or Redis on the machine does not collide with ours.
  etcdClient: 12379,
  etcdPeer: 12380,
  redis: 16379,
  // On the cluster's own LAN address, so the standard port collides with nothing on loopback.
  registry: 5000,
};

export function readClusterState(file: string): ClusterState | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ClusterState>;
  if (parsed.version !== 1 || parsed.ports === undefined || parsed.components === undefined) {
    throw new Error(
      `${file} is not a cluster state file this version of flotilla understands; move it away and run up again`,
    );
  }
  return parsed as ClusterState;
}

export function writeClusterState(file: string, state: ClusterState): void {
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(temporary, file);
}
