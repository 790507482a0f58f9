// The seam RBAC plugs into later: every request is described by Kubernetes' authorization attributes
// and a decision is asked for before the handler runs.
import type { UserInfo } from './token-authenticator';

export interface RequestAttributes {
  user: UserInfo;
  /** get, list, watch, create, update, patch, delete, deletecollection; or the HTTP verb for non-resource paths. */
  verb: string;
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** For non-resource requests such as /healthz. */
  path?: string;
}

export type AuthorizationDecision = { allowed: true } | { allowed: false; reason: string };

export interface Authorizer {
  authorize(attributes: RequestAttributes): AuthorizationDecision;
}

/** Any authenticated user may do anything, until RBAC lands. */
export class AllowAuthenticatedAuthorizer implements Authorizer {
  authorize(): AuthorizationDecision {
    return { allowed: true };
  }
}
