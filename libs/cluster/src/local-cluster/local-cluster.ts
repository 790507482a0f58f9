// `flotilla up` and `flotilla down`: a whole cluster on one machine, its components our own children,
// its state under one home directory (default ~/.flotilla) so that `up` after `down` finds it again.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { join } from 'node:path';
import { startApiserver } from '../components/apiserver.component';
import { startController } from '../components/controller.component';
import { startEtcd } from '../components/etcd.component';
import { startRedis } from '../components/redis.component';
import { startRegistry } from '../components/registry.component';
import { startNodeAgent } from '../node-hosts/node-agent.component';
import {
  destroyNodeCluster,
  openNodeCluster,
  readNodeCluster,
  type NodeCluster,
} from '../node-hosts/node-cluster';
import { ensureAdminToken, ensureClusterPki } from '../pki/cluster-pki';
import { ComponentError, isAlive, stopProcess } from '../processes/supervised-process';
import {
  DEFAULT_PORTS,
  readClusterState,
  writeClusterState,
  type ClusterPorts,
  type ComponentRecord,
  type NodeHostsState,
  type UpNodeSpec,
} from './cluster-state';

export interface ClusterLayout {
  readonly home: string;
  readonly stateFile: string;
  readonly pkiDir: string;
  readonly logDir: string;
  readonly etcdDataDir: string;
  readonly redisDataDir: string;
  readonly registryDataDir: string;
  /** One state dir per node host: its images, containers and pods. */
  readonly nodesDir: string;
  readonly tokenFile: string;
  readonly kubeconfigFile: string;
  /** What the cluster's own processes (scheduler, controllers) use to reach the apiserver. */
  readonly componentKubeconfigFile: string;
}

export function clusterLayout(home: string): ClusterLayout {
  return {
    home,
    stateFile: join(home, 'cluster.json'),
    pkiDir: join(home, 'pki'),
    logDir: join(home, 'logs'),
    etcdDataDir: join(home, 'etcd'),
    redisDataDir: join(home, 'redis'),
    registryDataDir: join(home, 'registry'),
    nodesDir: join(home, 'nodes'),
    tokenFile: join(home, 'tokens.csv'),
    kubeconfigFile: join(home, 'kubeconfig'),
    componentKubeconfigFile: join(home, 'pki', 'components.kubeconfig'),
  };
}

export type ProgressEvent =
  | { readonly kind: 'step'; readonly message: string }
  | { readonly kind: 'reused'; readonly component: string; readonly pid: number }
  | { readonly kind: 'started'; readonly component: string; readonly pid: number; readonly url?: string }
  | { readonly kind: 'stopped'; readonly component: string; readonly pid: number }
  | { readonly kind: 'removed'; readonly what: string };

export interface UpOptions {
  readonly home: string;
  readonly apiserverCommand: { readonly command: string; readonly args: readonly string[] };
  /** Started after the apiserver, in order, each with --kubeconfig and --redis. */
  readonly controllers?: ReadonlyArray<{
    readonly name: string;
    readonly command: string;
    readonly args: readonly string[];
  }>;
  readonly ports?: Partial<ClusterPorts>;
  /**
   * Node hosts, each with a node agent (needs root): network namespaces on a LAN bridge of this
   * cluster, with the apiserver and an image registry on the host's LAN address. Absent: the nodes of
   * the previous `up`; empty: the control plane alone on loopback.
   */
  readonly nodes?: readonly UpNodeSpec[];
  /** How to run the node agent (`node .../node-agent/src/main.js`); required when there are nodes. */
  readonly agentCommand?: { readonly command: string; readonly args: readonly string[] };
  /** The port of the apiserver's gRPC NodeService (default: the HTTPS port + 1). */
  readonly grpcPort?: number;
  readonly onProgress?: (event: ProgressEvent) => void;
}

interface ComponentStep {
  readonly name: string;
  /** Where the component must answer; one running elsewhere (an earlier `up` without nodes) is restarted. */
  readonly url?: string;
  readonly start: () => Promise<{ readonly pid: number; readonly logFile: string; readonly url: string }>;
}

export interface ClusterConnection {
  readonly server: string;
  readonly caCertFile: string;
  readonly token: string;
  readonly etcdUrl: string;
  readonly redisUrl: string;
  readonly layout: ClusterLayout;
  /** host:port of the cluster registry, when the cluster has node hosts. */
  readonly registry?: string;
  readonly nodes: ReadonlyArray<{ readonly name: string; readonly address: string }>;
}

/** A user's cluster id: stable for a home directory, distinct between homes. */
export function userClusterId(home: string): string {
  return `u${createHash('sha256').update(home).digest('hex').slice(0, 10)}`;
}

/** Starts what is not running, reuses what is; safe to call again. */
export async function clusterUp(options: UpOptions): Promise<ClusterConnection> {
  const layout = clusterLayout(options.home);
  const progress = options.onProgress ?? (() => undefined);
  mkdirSync(layout.home, { recursive: true, mode: 0o700 });
  mkdirSync(layout.logDir, { recursive: true });

  const previous = readClusterState(layout.stateFile);
  const ports: ClusterPorts = { ...DEFAULT_PORTS, ...previous?.ports, ...options.ports };
  const components: Record<string, ComponentRecord> = {};
  const alive = (name: string): ComponentRecord | undefined => {
    const record = previous?.components[name];
    return record && isAlive(record.pid) ? record : undefined;
  };
  const nodes = options.nodes ?? previous?.nodeHosts?.nodes ?? [];
  let nodeHosts: NodeHostsState | undefined;
  let registry: string | undefined;
  const save = (): void =>
    writeClusterState(layout.stateFile, {
      version: 1,
      ports,
      components,
      ...(nodeHosts ? { nodeHosts } : {}),
      ...(registry ? { registry } : {}),
    });

  // Nodes are dropped first: their agents and containers go before the control plane changes.
  const clusterId = previous?.nodeHosts?.clusterId ?? userClusterId(layout.home);
  for (const [name, record] of Object.entries(previous?.components ?? {})) {
    if (name.startsWith(NODE_COMPONENT_PREFIX) && !nodes.some((node) => nodeComponent(node.name) === name)) {
      await stopProcess(record.pid);
      progress({ kind: 'stopped', component: name, pid: record.pid });
    }
  }
  let nodeCluster: NodeCluster | undefined;
  if (nodes.length === 0) {
    if (readNodeCluster(clusterId)) {
      progress({ kind: 'step', message: 'removing the node hosts' });
      await destroyNodeCluster(clusterId);
    }
  } else {
    if (options.agentCommand === undefined) {
      throw new ComponentError(
        'node hosts need the node agent: build it (npm run build) or start with --nodes 0',
      );
    }
    progress({ kind: 'step', message: 'preparing the node LAN' });
    nodeCluster = await openNodeCluster({
      clusterId,
      ...(previous?.nodeHosts ? { preferredBlock: previous.nodeHosts.block } : {}),
    });
    const wanted = new Set(nodes.map((node) => node.name));
    for (const host of nodeCluster.nodes()) {
      if (wanted.has(host.name)) continue;
      progress({ kind: 'step', message: `removing node host ${host.name}` });
      await nodeCluster.removeNode(host.name);
    }
    nodeHosts = { clusterId, block: nodeCluster.record.block, hostAddress: nodeCluster.hostAddress, nodes };
  }
  // The address the control plane answers on: the LAN's, when nodes must reach it.
  const controlHost = nodeCluster?.hostAddress ?? '127.0.0.1';
  const apiserverUrl = `https://${controlHost}:${ports.apiserver}`;
  const grpcPort = options.grpcPort ?? ports.apiserver + 1;
  if (nodeCluster) registry = `${controlHost}:${ports.registry}`;

  progress({ kind: 'step', message: 'preparing certificates and the admin token' });
  const pki = ensureClusterPki({
    dir: layout.pkiDir,
    apiserverHosts: ['127.0.0.1', 'localhost', '::1', ...(nodeCluster ? [controlHost] : [])],
  });
  const token = ensureAdminToken(layout.tokenFile);

  const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
  // In start order; each later component may rely on the earlier ones being up.
  const steps: readonly ComponentStep[] = [
    {
      name: 'etcd',
      start: () =>
        startEtcd({
          dataDir: layout.etcdDataDir,
          logDir: layout.logDir,
          clientPort: ports.etcdClient,
          peerPort: ports.etcdPeer,
        }),
    },
    {
      name: 'redis',
      start: () => startRedis({ dataDir: layout.redisDataDir, logDir: layout.logDir, port: ports.redis }),
    },
    {
      name: 'apiserver',
      url: apiserverUrl,
      start: () =>
        startApiserver({
          command: options.apiserverCommand.command,
          args: options.apiserverCommand.args,
          etcdUrl,
          port: ports.apiserver,
          bindAddress: controlHost,
          tokenFile: layout.tokenFile,
          certFile: pki.apiserver.certFile,
          keyFile: pki.apiserver.keyFile,
          caCertFile: pki.caCertFile,
          agentClient: pki.apiserverAgentClient,
          grpcPort,
          redisUrl: `redis://127.0.0.1:${ports.redis}`,
          logDir: layout.logDir,
        }),
    },
    ...(options.controllers ?? []).map((controller): ComponentStep => ({
      name: controller.name,
      start: () => {
        writeComponentKubeconfig({
          file: layout.componentKubeconfigFile,
          server: apiserverUrl,
          caCertFile: pki.caCertFile,
          token,
        });
        return startController({
          name: controller.name,
          command: controller.command,
          args: controller.args,
          kubeconfigFile: layout.componentKubeconfigFile,
          redisUrl: `redis://127.0.0.1:${ports.redis}`,
          logDir: layout.logDir,
        });
      },
    })),
    ...(nodeCluster && registry
      ? [
          {
            name: 'registry',
            url: `http://${registry}`,
            start: () =>
              startRegistry({
                dataDir: layout.registryDataDir,
                logDir: layout.logDir,
                port: ports.registry,
                host: controlHost,
              }),
          },
        ]
      : []),
    ...nodes.map((node): ComponentStep => ({
      name: nodeComponent(node.name),
      start: async () => {
        const cluster = nodeCluster;
        const agent = options.agentCommand;
        if (!cluster || !agent) throw new ComponentError('node hosts need the node agent');
        let host = cluster.node(node.name);
        if (!host) {
          progress({ kind: 'step', message: `creating node host ${node.name} (${describeNode(node)})` });
          host = await cluster.addNode({
            name: node.name,
            stateDir: join(layout.nodesDir, node.name),
            ...(node.cpuMillicores !== undefined ? { cpuMillicores: node.cpuMillicores } : {}),
            ...(node.memoryBytes !== undefined ? { memoryBytes: node.memoryBytes } : {}),
          });
        }
        return startNodeAgent({
          host,
          command: agent.command,
          args: agent.args,
          apiserverUrl,
          grpcAddress: `${controlHost}:${grpcPort}`,
          caCertFile: pki.caCertFile,
          caKeyFile: pki.caKeyFile,
          pkiDir: join(layout.pkiDir, 'nodes'),
          ...(registry ? { registry } : {}),
          logDir: layout.logDir,
          token,
        });
      },
    })),
  ];

  for (const step of steps) {
    let running = alive(step.name);
    if (running && step.url !== undefined && running.url !== step.url) {
      progress({ kind: 'step', message: `restarting ${step.name} to listen on ${step.url}` });
      await stopProcess(running.pid);
      running = undefined;
    }
    if (running) {
      progress({ kind: 'reused', component: step.name, pid: running.pid });
      components[step.name] = running;
      continue;
    }
    progress({ kind: 'step', message: `starting ${step.name}` });
    const started = await step.start();
    components[step.name] = { pid: started.pid, logFile: started.logFile, url: started.url };
    progress({ kind: 'started', component: step.name, pid: started.pid, url: started.url });
    save();
  }
  save();

  return {
    server: components['apiserver']?.url ?? `https://127.0.0.1:${ports.apiserver}`,
    caCertFile: pki.caCertFile,
    token,
    etcdUrl,
    redisUrl: components['redis']?.url ?? `redis://127.0.0.1:${ports.redis}`,
    layout,
    ...(registry ? { registry } : {}),
    nodes: nodeCluster ? nodeCluster.nodes().map((host) => ({ name: host.name, address: host.address })) : [],
  };
}

/** Stops every component, newest first; data stays for the next `up`. */
export async function clusterDown(options: {
  readonly home: string;
  readonly onProgress?: (event: ProgressEvent) => void;
}): Promise<void> {
  const layout = clusterLayout(options.home);
  const state = readClusterState(layout.stateFile);
  if (!state) return;
  const names = Object.keys(state.components).reverse();
  for (const name of names) {
    const record = state.components[name];
    if (!record) continue;
    await stopProcess(record.pid);
    options.onProgress?.({ kind: 'stopped', component: name, pid: record.pid });
  }
  // The node hosts go entirely (their pods come back from the API on the next `up`); what they were
  // stays in the state, so that `up` recreates the same nodes.
  if (state.nodeHosts && readNodeCluster(state.nodeHosts.clusterId)) {
    await destroyNodeCluster(state.nodeHosts.clusterId);
    options.onProgress?.({ kind: 'removed', what: `node hosts (${state.nodeHosts.nodes.length})` });
  }
  writeClusterState(layout.stateFile, {
    version: 1,
    ports: state.ports,
    components: {},
    ...(state.nodeHosts ? { nodeHosts: state.nodeHosts } : {}),
  });
}

/** A kubeconfig for the cluster's own processes, with the CA inline so it works from any directory. */
export function writeComponentKubeconfig(options: {
  file: string;
  server: string;
  caCertFile: string;
  token: string;
}): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'flotilla',
        cluster: {
          server: options.server,
          'certificate-authority-data': readFileSync(options.caCertFile).toString('base64'),
        },
      },
    ],
    users: [{ name: 'flotilla-components', user: { token: options.token } }],
    contexts: [
      {
        name: 'flotilla',
        context: { cluster: 'flotilla', user: 'flotilla-components', namespace: 'default' },
      },
    ],
    'current-context': 'flotilla',
  };
  writeFileSync(options.file, stringify(config), { mode: 0o600 });
}

const NODE_COMPONENT_PREFIX = 'node-agent/';

function nodeComponent(name: string): string {
  return `${NODE_COMPONENT_PREFIX}${name}`;
}

function describeNode(node: UpNodeSpec): string {
  const cpu = node.cpuMillicores === undefined ? 'host CPUs' : `${node.cpuMillicores / 1000} CPU`;
  const memory =
    node.memoryBytes === undefined ? 'host memory' : `${Math.round(node.memoryBytes / 1024 ** 2)}Mi memory`;
  return `${cpu}, ${memory}`;
}
