export { startApiServer } from './server/api-server';
export type { ApiServerOptions, RunningApiServer } from './server/api-server';
export { ApiError, apiErrors } from './http/api-error';
export type { Patcher, PatchInput } from './resources/object-patcher';
export type { PatchType } from './http/request-body';
export { TokenAuthenticator, TokenFileError } from './auth/token-authenticator';
export type { UserInfo } from './auth/token-authenticator';
export { AllowAuthenticatedAuthorizer } from './auth/authorizer';
export type { Authorizer, AuthorizationDecision, RequestAttributes } from './auth/authorizer';
export type { NodeServiceOptions } from './nodes/node-service';
export type {
  ContainerSample,
  NodeSample,
  PodSample,
  SampleWindow,
  UsageSamples,
} from './metrics/usage-samples.store';
