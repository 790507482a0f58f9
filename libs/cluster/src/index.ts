export { freePort, isPortFree } from './components/ports';
export { requireBinary } from './components/binaries';
export { startEtcd, etcdHealthy } from './components/etcd.component';
export type { EtcdOptions, RunningEtcd } from './components/etcd.component';
export { startRedis, redisAnswers } from './components/redis.component';
export type { RedisOptions, RunningRedis } from './components/redis.component';
export {
  ComponentError,
  isAlive,
  sleep,
  startDetached,
  stopProcess,
  tail,
  waitUntilReady,
} from './processes/supervised-process';
export type { ProcessSpec, StartedProcess, WaitOptions } from './processes/supervised-process';
export { ensureAdminToken, ensureClusterPki, ensureSignedCertificate } from './pki/cluster-pki';
export type { CertificatePaths, ClusterPki, PkiOptions, SignedCertificateOptions } from './pki/cluster-pki';
export { APISERVER_NODE_FLAGS, startApiserver, httpsAnswersOk } from './components/apiserver.component';
export { startController } from './components/controller.component';
export type { ControllerOptions, RunningController } from './components/controller.component';
export type { ApiserverOptions, RunningApiserver } from './components/apiserver.component';
export {
  clusterDown,
  clusterLayout,
  clusterUp,
  writeComponentKubeconfig,
} from './local-cluster/local-cluster';
export type {
  ClusterConnection,
  ClusterLayout,
  ProgressEvent,
  UpOptions,
} from './local-cluster/local-cluster';
export { DEFAULT_PORTS, readClusterState } from './local-cluster/cluster-state';
export type { ClusterPorts, ClusterState, ComponentRecord } from './local-cluster/cluster-state';
export { startRegistry, registryAnswers } from './components/registry.component';
export type { RegistryOptions, RegistryTokenAuth, RunningRegistry } from './components/registry.component';
export {
  destroyNodeCluster,
  NodeCluster,
  NODE_CLUSTER_RECORDS,
  openNodeCluster,
  readNodeCluster,
  sweepDeadNodeClusters,
} from './node-hosts/node-cluster';
export type { AddNodeOptions, NodeClusterRecord, OpenNodeClusterOptions } from './node-hosts/node-cluster';
export { NodeHost } from './node-hosts/node-host';
export { ensureNodeCertificate, nodeIsReady, startNodeAgent } from './node-hosts/node-agent.component';
export type { NodeAgentOptions, RunningNodeAgent } from './node-hosts/node-agent.component';
export type { NodeHostRecord, NodeProcessSpec, NodeRunResult } from './node-hosts/node-host';
export type { NodeLanRecord } from './node-hosts/node-lan.network';
export { nodeHostNames, testClusterId } from './node-hosts/node-host-names.util';
export type { NodeHostNames } from './node-hosts/node-host-names.util';
