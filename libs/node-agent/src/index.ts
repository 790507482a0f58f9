// The node agent: the connection to the apiserver and the pod engine behind the NodePods seam.
export { NodePodsError } from './pods/node-pods.types';
export { createNodePods } from './pods/node-pods.engine';
export type { NodePodsOptions } from './pods/node-pods.options';
export type { ClusterDns } from './pods/pod-dns.util';
export {
  ClusterDnsServer,
  listenWhenAddressExists,
  parseClusterDomain,
  parseDnsUpstream,
  serveClusterDns,
} from './dns/cluster-dns.server';
export type {
  ClusterDnsServerOptions,
  ClusterDnsServerStats,
  DnsUpstream,
  RunningClusterDns,
} from './dns/cluster-dns.server';
export type { ClusterNames, ServiceNames, ServicePortName } from './dns/cluster-names.types';
export type { BackoffPolicy } from './pods/restart-backoff.util';
export type { ResolveObject } from './pods/volumes/pod-volumes';
export type {
  ContainerUsageSample,
  NodePods,
  NodePodsErrorCode,
  NodeUsageSample,
  PodExecRequest,
  PodExecSession,
  PodLogsRequest,
  PodStatusReport,
  PodUsageSample,
} from './pods/node-pods.types';
export { APISERVER_CLIENT_COMMON_NAME, startAgentService } from './agent-service/agent-service.server';
export type {
  AgentServiceOptions,
  AgentServiceTls,
  RunningAgentService,
} from './agent-service/agent-service.server';
export { NodeConnection, NodeRegistrationError, defaultNodeConditions } from './connection/node-connection';
export type {
  ConnectionState,
  NodeConnectionOptions,
  NodeConnectionTls,
  PeerRouteTable,
  ServiceObjectSink,
} from './connection/node-connection';
export { ServiceTable } from './services/service-table';
export type { ServiceRuleSink, ServiceTableObject, ServiceTableOptions } from './services/service-table';
export { serviceRules } from './services/service-rules.util';
export type { ServiceRulesResult } from './services/service-rules.util';
export type { ServiceDirectory, ServiceEntry, ServicePortEntry } from './services/service-directory.types';
export { ReserveError, nodeResources } from './connection/node-resources.util';
export type { NodeReserve } from './connection/node-resources.util';
export { AGENT_VERSION, collectNodeInfo } from './connection/node-info';
export { plainHttpAllowed } from './connection/registry-address.util';
export {
  DEFAULT_EVICTION_HARD,
  EvictionThresholdError,
  parseEvictionHard,
} from './pressure/eviction-threshold.util';
export type { EvictionThreshold, PressureConditionStatus } from './pressure/eviction-threshold.util';
export { NodePressureMonitor } from './pressure/node-pressure.monitor';
export type { NodePressureMonitorOptions } from './pressure/node-pressure.monitor';
export { PressureSignalsReader } from './pressure/pressure-signals.reader';
export type { PressureSignalsOptions } from './pressure/pressure-signals.reader';
export { HollowNodePods } from './hollow/hollow-node-pods';
export type { HollowNodePodsOptions } from './hollow/hollow-node-pods';
export { HOLLOW_NODE_CAPACITY, HollowNode } from './hollow/hollow-node';
export type { HollowNodeCapacity, HollowNodeOptions } from './hollow/hollow-node';
export { issueHollowNodeCertificates } from './hollow/hollow-certificates';
export type { HollowCertificatesOptions } from './hollow/hollow-certificates';
