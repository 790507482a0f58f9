// gRPC clients to node agents' AgentService, one per agent endpoint, authenticated with the
// apiserver's client certificate; and the mapping of an agent's gRPC failures to the HTTP Status the
// API client sees.
import { readFileSync } from 'node:fs';
import { credentials, status as GrpcStatus, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import type { StatusReason } from '@flotilla/api';
import { AgentServiceClient } from '@flotilla/proto';
import { ApiError, apiErrors } from '../http/api-error';

export interface AgentClientTls {
  /** The cluster CA that signed the agents' serving certificates. */
  caFile: string;
  /** The apiserver's client certificate and key (CN flotilla-apiserver), signed by the cluster CA. */
  certFile: string;
  keyFile: string;
}

export class AgentDialer {
  private readonly clients = new Map<string, AgentServiceClient>();
  private readonly credentials: ChannelCredentials | undefined;

  constructor(tls: AgentClientTls | undefined) {
    this.credentials = tls
      ? credentials.createSsl(readFileSync(tls.caFile), readFileSync(tls.keyFile), readFileSync(tls.certFile))
      : undefined;
  }

  /** A client for the agent at host:port; connections are made lazily and reused across requests. */
  clientFor(endpoint: string): AgentServiceClient {
    if (!this.credentials) {
      throw apiErrors.unavailable(
        'this apiserver has no client certificate for node agents, so it cannot reach them for logs or exec: ' +
          'start it with the agent client certificate, key and CA (flotilla up issues them in its pki directory)',
      );
    }
    let client = this.clients.get(endpoint);
    if (!client) {
      client = new AgentServiceClient(endpoint, this.credentials);
      this.clients.set(endpoint, client);
    }
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

function failure(code: number, reason: StatusReason, message: string): ApiError {
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
}

/** What an agent's failure means to the API client, naming the node so the user knows where to look. */
export function apiErrorOfAgent(
  error: ServiceError,
  where: { nodeName: string; endpoint: string },
): ApiError {
  const details = error.details || error.message;
  switch (error.code) {
    case GrpcStatus.NOT_FOUND:
      return failure(404, 'NotFound', details);
    case GrpcStatus.INVALID_ARGUMENT:
      return failure(400, 'BadRequest', details);
    case GrpcStatus.FAILED_PRECONDITION:
      return failure(409, 'Conflict', details);
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
      return apiErrors.unavailable(
        `error dialing backend: cannot reach the agent of node "${where.nodeName}" at ${where.endpoint}: ${details}`,
      );
    case GrpcStatus.PERMISSION_DENIED:
    case GrpcStatus.UNAUTHENTICATED:
      return apiErrors.internal(
        `the agent of node "${where.nodeName}" refused the apiserver (${details}): the apiserver's agent client ` +
          `certificate must be signed by the cluster CA with common name flotilla-apiserver`,
      );
    default:
      return apiErrors.internal(`the agent of node "${where.nodeName}" failed: ${details}`);
  }
}
