// flotilla-node-agent: flags and wiring only. It registers the node (capacity from its own cgroup),
// then runs the pod engine, the AgentService for logs and exec, and the Connect stream that feeds the
// engine; the pieces live in libs/node-agent.
import './threadpool.setup';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIPv4 } from 'node:net';
import {
  DEFAULT_EVICTION_HARD,
  EvictionThresholdError,
  NodeConnection,
  NodePressureMonitor,
  NodeRegistrationError,
  PressureSignalsReader,
  ReserveError,
  ServiceTable,
  collectNodeInfo,
  createNodePods,
  defaultNodeConditions,
  parseEvictionHard,
  nodeResources,
  parseClusterDomain,
  parseDnsUpstream,
  plainHttpAllowed,
  serveClusterDns,
  startAgentService,
  type DnsUpstream,
  type EvictionThreshold,
  type NodePods,
  type PeerRouteTable,
  type RunningAgentService,
} from '@flotilla/node-agent';
import { parseGoDurationMs } from '@flotilla/api';
import { RegisterRequest } from '@flotilla/proto';
import { BridgeNetwork, DEFAULT_STATE_DIR, ServiceProxy, readCgroupCapacity } from '@flotilla/runtime';
import { Command, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535) {
    throw new InvalidArgumentError('must be a port number between 1 and 65535');
  }
  return parsed;
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
}

function duration(value: string): number {
  const parsed = parseGoDurationMs(value);
  if (parsed === undefined) throw new InvalidArgumentError('must be a duration like 30s, 5m0s or 500ms');
  return Math.round(parsed);
}

function evictionHard(value: string): EvictionThreshold[] {
  try {
    return parseEvictionHard(value);
  } catch (error) {
    if (error instanceof EvictionThresholdError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

function dnsUpstream(value: string): DnsUpstream {
  try {
    return parseDnsUpstream(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

function clusterDomain(value: string): string {
  try {
    return parseClusterDomain(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

function labels(value: string): Record<string, string> {
  const parsed: Record<string, string> = {};
  for (const pair of value.split(',').filter((item) => item !== '')) {
    const [key, ...rest] = pair.split('=');
    if (!key || rest.length === 0) throw new InvalidArgumentError(`"${pair}" is not key=value`);
    parsed[key] = rest.join('=');
  }
  return parsed;
}

const program = new Command('flotilla-node-agent')
  .description(
    'The node agent: registers this host with the apiserver (capacity from its own cgroup), runs the pods bound to it and serves their logs and exec',
  )
  .requiredOption('--apiserver <host:port>', "the apiserver's gRPC NodeService, e.g. 10.0.0.1:6444")
  .option(
    '--node-name <name>',
    'the Node to register as (its certificate must say system:node:<name>)',
    hostname(),
  )
  .requiredOption('--node-ip <address>', "the node's InternalIP; AgentService listens on it too")
  .option('--agent-port <port>', 'port of AgentService (logs and exec, called by the apiserver)', port, 10250)
  .option('--state-dir <dir>', 'images, containers, networks and pod records', DEFAULT_STATE_DIR)
  .option(
    '--cgroup-parent <path>',
    'cgroup (under the cgroup root) every pod cgroup goes under',
    'flotilla-pods',
  )
  .option(
    '--node-usage-cgroup <path>',
    "cgroup whose usage is the node's in metrics, when the agent and its pods share one (default: the whole host's)",
  )
  .option(
    '--metrics-interval <seconds>',
    'how often CPU and memory usage go to the apiserver (the autoscaler reacts within a few of these)',
    positiveInteger,
    5,
  )
  .requiredOption('--ca-file <file>', 'the cluster CA (PEM): verifies the apiserver and its calls')
  .requiredOption(
    '--cert-file <file>',
    "the node's certificate (PEM, CN system:node:<name>): client toward the apiserver, server of AgentService",
  )
  .requiredOption('--key-file <file>', 'the key of --cert-file (PEM)')
  .option('--reserved-cpu <quantity>', 'CPU kept from pods for the system and the agent, e.g. 100m', '0')
  .option(
    '--reserved-memory <quantity>',
    'memory kept from pods for the system and the agent, e.g. 256Mi',
    '0',
  )
  .addOption(
    new Option(
      '--eviction-hard <signal<value,...>',
      "thresholds that put the node under pressure (kubelet's syntax; a list replaces all defaults)",
    )
      .argParser(evictionHard)
      .default(parseEvictionHard(DEFAULT_EVICTION_HARD), DEFAULT_EVICTION_HARD),
  )
  .addOption(
    new Option(
      '--eviction-pressure-transition-period <duration>',
      'how long a pressure condition stays True after its signal last crossed the threshold',
    )
      .argParser(duration)
      .default(300_000, '5m0s'),
  )
  .addOption(
    new Option(
      '--eviction-monitoring-interval <duration>',
      'how often memory, disk and PID signals are sampled',
    )
      .argParser(duration)
      .default(10_000, '10s'),
  )
  .option(
    '--heartbeat-interval <duration>',
    "how often the node heartbeats and renews its Lease (default: the apiserver's answer at registration, 5s); keep it well under the controller-manager's --node-monitor-grace-period",
    duration,
  )
  .option('--max-pods <n>', 'pods this node accepts', positiveInteger, 110)
  .option('--node-labels <key=value,...>', 'labels added to the Node at registration', labels)
  .option('--bridge-name <name>', 'the Linux bridge of the pod network (at most 15 characters)', 'flotpods0')
  .option(
    '--registry <host:port>',
    'where image names without a registry are pulled from (http for loopback and private addresses)',
  )
  .option(
    '--service-table <name>',
    'nftables table (or iptables chain prefix) of the Service rules; give each agent its own when several share a network namespace',
    'flotilla_services',
  )
  .option('--no-service-proxy', 'do not program Services (ClusterIP, NodePort) on this host')
  .option(
    '--no-cluster-dns',
    "do not answer pods' DNS queries for Service names on this node (pods then get the node's resolv.conf)",
  )
  .option('--cluster-domain <domain>', 'the domain of Service and pod names', clusterDomain, 'cluster.local')
  .option(
    '--dns-upstream <address[:port]>',
    'where the cluster DNS forwards names outside the cluster domain (default: it refuses them)',
    dnsUpstream,
  )
  .option(
    '--no-peer-routes',
    "do not route to other nodes' pod CIDRs (a single host, or routes managed elsewhere)",
  )
  .option('--log-level <level>', 'pino log level: debug, info, warn, error', 'info');

program.parse();
const flags = program.opts<{
  apiserver: string;
  nodeName: string;
  nodeIp: string;
  agentPort: number;
  stateDir: string;
  cgroupParent: string;
  nodeUsageCgroup?: string;
  metricsInterval: number;
  caFile: string;
  certFile: string;
  keyFile: string;
  reservedCpu: string;
  reservedMemory: string;
  maxPods: number;
  evictionHard: EvictionThreshold[];
  evictionPressureTransitionPeriod: number;
  evictionMonitoringInterval: number;
  heartbeatInterval?: number;
  nodeLabels?: Record<string, string>;
  bridgeName: string;
  registry?: string;
  peerRoutes: boolean;
  serviceTable: string;
  serviceProxy: boolean;
  clusterDns: boolean;
  clusterDomain: string;
  dnsUpstream?: DnsUpstream;
  logLevel: string;
}>();

function fail(message: string, code = 1): never {
  process.stderr.write(`flotilla-node-agent: ${message}\n`);
  process.exit(code);
}

if (!isIPv4(flags.nodeIp)) fail(`--node-ip "${flags.nodeIp}" must be an IPv4 address of this host`, 2);
if (!/^[^:]+:\d{1,5}$/.test(flags.apiserver)) fail(`--apiserver "${flags.apiserver}" must be host:port`, 2);
if (flags.heartbeatInterval !== undefined && flags.heartbeatInterval < 100)
  fail(`--heartbeat-interval must be at least 100ms`, 2);

const logger = pino({ level: flags.logLevel, base: { component: 'node-agent', node: flags.nodeName } });

async function main(): Promise<void> {
  const capacity = await readCgroupCapacity();
  const resources = nodeResources({
    cpuMillicores: capacity.cpuMillicores,
    memoryBytes: capacity.memoryBytes,
    reserve: { cpu: flags.reservedCpu, memory: flags.reservedMemory },
    maxPods: flags.maxPods,
  });
  const info = await collectNodeInfo();
  // Disk pressure is read from the state dir's file system, which must exist from the first sample on.
  mkdirSync(flags.stateDir, { recursive: true });
  const pressure = new NodePressureMonitor({
    reader: new PressureSignalsReader({ stateDir: flags.stateDir }),
    thresholds: flags.evictionHard,
    intervalMs: flags.evictionMonitoringInterval,
    transitionPeriodMs: flags.evictionPressureTransitionPeriod,
    log: (message, fields) => logger.warn(fields, message),
  });
  await pressure.start();
  const ready = defaultNodeConditions().filter((condition) => condition.type === 'Ready');
  logger.info(
    { capacity: resources.capacity, allocatable: resources.allocatable, source: capacity },
    'node capacity',
  );
  // Host-gw routes need the bridge's subnet, known once the apiserver has handed out the pod CIDR.
  const network: { bridge?: BridgeNetwork } = {};
  const peerRoutes: PeerRouteTable = {
    addPeerRoute: async (route) => network.bridge?.addPeerRoute(route),
    removePeerRoute: async (subnet) => network.bridge?.removePeerRoute(subnet),
  };
  // Every Service on every node, written as one nft transaction per (debounced) change.
  const services = flags.serviceProxy
    ? new ServiceTable({
        proxy: new ServiceProxy({ table: flags.serviceTable }),
        log: (message) => logger.warn(message),
      })
    : undefined;
  const connection = new NodeConnection({
    apiserver: flags.apiserver,
    tls: { caFile: flags.caFile, certFile: flags.certFile, keyFile: flags.keyFile },
    registration: () =>
      Promise.resolve(
        RegisterRequest.fromPartial({
          nodeName: flags.nodeName,
          addresses: [
            { type: 'InternalIP', address: flags.nodeIp },
            { type: 'Hostname', address: flags.nodeName },
          ],
          capacity: resources.capacity,
          allocatable: resources.allocatable,
          info,
          agentEndpoint: `${flags.nodeIp}:${flags.agentPort}`,
          labels: flags.nodeLabels ?? {},
        }),
      ),
    metricsIntervalMs: flags.metricsInterval * 1000,
    logger,
    conditions: () => [...pressure.conditions(), ...ready],
    ...(flags.heartbeatInterval !== undefined ? { heartbeatIntervalMs: flags.heartbeatInterval } : {}),
    ...(flags.peerRoutes ? { peerRoutes } : {}),
    ...(services ? { services } : {}),
  });
  const registration = await connection.register();
  network.bridge = new BridgeNetwork({
    stateDir: flags.stateDir,
    name: flags.bridgeName,
    bridge: flags.bridgeName,
    subnet: registration.podCidr,
    clusterCidr: registration.clusterCidr,
  });
  // Each pod asks its own node's agent, on the bridge gateway (see cluster-dns.server.ts for why);
  // the names come from the same service table as this node's Service rules.
  if (flags.clusterDns && !services)
    logger.warn('the cluster DNS is off: it reads the Services that --no-service-proxy turns off');
  const dnsAddress = flags.clusterDns && services ? network.bridge.gateway : undefined;
  const clusterDns =
    dnsAddress !== undefined
      ? { servers: [dnsAddress], domain: flags.clusterDomain }
      : registration.clusterDns
        ? { servers: [registration.clusterDns] }
        : undefined;
  const pods: NodePods = await createNodePods({
    nodeName: flags.nodeName,
    stateDir: flags.stateDir,
    podCidr: registration.podCidr,
    clusterCidr: registration.clusterCidr,
    bridgeName: flags.bridgeName,
    cgroupParent: flags.cgroupParent,
    ...(flags.nodeUsageCgroup ? { nodeUsageCgroup: flags.nodeUsageCgroup } : {}),
    allocatable: resources.allocatableAmounts,
    nodeIP: flags.nodeIp,
    ...(clusterDns ? { clusterDns } : {}),
    ...(flags.registry ? { defaultRegistry: flags.registry } : {}),
    ...(flags.registry && plainHttpAllowed(flags.registry) ? { insecureRegistries: [flags.registry] } : {}),
    resolveObject: connection.resolveObject,
    log: (message) => logger.warn(message),
  });
  let agentService: RunningAgentService;
  try {
    agentService = await startAgentService({
      pods,
      bindAddress: flags.nodeIp,
      port: flags.agentPort,
      tls: { caFile: flags.caFile, certFile: flags.certFile, keyFile: flags.keyFile },
    });
  } catch (error) {
    await pods.close();
    throw error;
  }
  const dns =
    dnsAddress !== undefined && services
      ? serveClusterDns({
          names: services,
          address: dnsAddress,
          domain: flags.clusterDomain,
          ...(flags.dnsUpstream ? { upstream: flags.dnsUpstream } : {}),
          log: (message) => logger.warn(message),
          onWaiting: () => logger.info({ address: dnsAddress }, 'cluster DNS waits for the pod bridge'),
        })
      : undefined;
  dns?.listening.then(
    (dnsPort) => logger.info({ address: dnsAddress, port: dnsPort }, 'cluster DNS listening'),
    (error: unknown) =>
      logger.error(
        { err: error },
        'cluster DNS could not listen: pods cannot resolve Service names (is port 53 taken?)',
      ),
  );
  connection.start(pods);
  logger.info({ podCidr: registration.podCidr, agentService: agentService.endpoint }, 'node agent running');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down; containers keep running for the next agent');
    // The service rules stay in the kernel: a restarted agent replaces them with its first full set.
    Promise.all([connection.close(), agentService.close(), pressure.stop(), services?.close(), dns?.stop()])
      .then(() => pods.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ReserveError || error instanceof NodeRegistrationError) fail(error.message, 2);
  fail(error instanceof Error ? error.message : String(error));
});
