// The one call apps make: kubeconfig (flag, KUBECONFIG or the Flotilla default) → context → client.
import { loadKubeconfig, resolveConnection } from '../kubeconfig/kubeconfig';
import { RestClient, type RestClientOptions } from './rest-client';

export interface CreateClientOptions extends RestClientOptions {
  /** --kubeconfig */
  readonly kubeconfig?: string;
  /** --context */
  readonly context?: string;
  /** -n/--namespace */
  readonly namespace?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export function createClient(options: CreateClientOptions = {}): RestClient {
  const loaded = loadKubeconfig({ explicitPath: options.kubeconfig, env: options.env });
  const connection = resolveConnection(loaded, { context: options.context, namespace: options.namespace });
  return new RestClient(connection, {
    requestTimeoutMs: options.requestTimeoutMs,
    userAgent: options.userAgent,
    ...(options.maxRequestSockets !== undefined ? { maxRequestSockets: options.maxRequestSockets } : {}),
  });
}
