export {
  KubeconfigError,
  defaultKubeconfigPath,
  emptyKubeconfig,
  flotillaHome,
  kubeconfigFileForEdit,
  kubeconfigFiles,
  loadKubeconfig,
  parseKubeconfig,
  readKubeconfigFile,
  resolveConnection,
  serializeKubeconfig,
  upsertCluster,
  upsertContext,
  upsertUser,
  writeKubeconfigFile,
} from './kubeconfig/kubeconfig';
export type {
  ConnectionOverrides,
  KubeconfigFiles,
  KubeconfigSource,
  LoadedKubeconfig,
} from './kubeconfig/kubeconfig';
export type {
  ConnectionConfig,
  Kubeconfig,
  KubeconfigCluster,
  KubeconfigContext,
  KubeconfigUser,
  NamedCluster,
  NamedContext,
  NamedUser,
} from './kubeconfig/kubeconfig.types';
export { ApiError, isApiError, isConflict, isGone, isNotFound } from './rest/api-error';
export { groupVersionPath, resourcePath, withQuery } from './rest/resource-path';
export type { QueryValue, ResourceLocation } from './rest/resource-path';
export { ConnectionError, RestClient } from './rest/rest-client';
export type {
  DeleteOptions,
  ListOptions,
  NamespaceOption,
  PatchOptions,
  PatchType,
  PropagationPolicy,
  RawRequest,
  RestClientOptions,
  WatchOptions,
  WriteOptions,
} from './rest/rest-client';
export { createClient } from './rest/client-factory';
export type { CreateClientOptions } from './rest/client-factory';
export { watchResource } from './watch/resource-watch';
export type { ResourceWatchOptions, WatchTransport } from './watch/resource-watch';
export { createEventRecorder } from './events/event-recorder';
export type { EventRecorder, EventRecorderOptions, EventType } from './events/event-recorder';
export { createInformer, objectKey } from './informer/informer';
export type { Informer, InformerHandlers, InformerOptions } from './informer/informer';
export { startLeaderElection } from './leader-election/leader-elector';
export type { LeaderElectionOptions, LeaderElector } from './leader-election/leader-elector';
export { streamPodLogs } from './pods/pod-logs';
export type { PodLogsOptions } from './pods/pod-logs';
export { execInPod, podExecPath } from './pods/pod-exec';
export type { PodExecOptions } from './pods/pod-exec';
