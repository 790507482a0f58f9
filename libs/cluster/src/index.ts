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
