// The connection pools of one RestClient. Requests and streams (watches, logs -f) get separate
// pools: a cap on request connections must never make a watch wait for a socket (a controller with
// more informers than the cap would stall), and a long-lived watch must never hold a request slot.
// Both pools share one TLS context: given ca/cert/key, node:https builds a new SecureContext (and
// parses the PEM bundle again) for every connection it opens, which under a burst of new
// connections was half of a TLS connect's CPU in the client.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { ConnectionConfig } from '../kubeconfig/kubeconfig.types';

export interface RestAgentOptions {
  /** At most this many request connections to the apiserver at once; more requests wait for one. */
  readonly maxRequestSockets?: number;
}

export interface RestAgents {
  readonly requests: HttpAgent;
  readonly streams: HttpAgent;
}

export function createRestAgents(connection: ConnectionConfig, options: RestAgentOptions = {}): RestAgents {
  const maxSockets = requestSocketLimit(options.maxRequestSockets);
  if (new URL(connection.server).protocol !== 'https:') {
    return {
      requests: new HttpAgent({ keepAlive: true, maxSockets }),
      streams: new HttpAgent({ keepAlive: true }),
    };
  }
  const tls = tlsOptions(connection);
  return {
    requests: new HttpsAgent({ ...tls, keepAlive: true, maxSockets }),
    streams: new HttpsAgent({ ...tls, keepAlive: true }),
  };
}

/** Node's default (no cap) unless a positive whole number is given. */
export function requestSocketLimit(requested: number | undefined): number {
  if (requested === undefined) return Infinity;
  if (!Number.isInteger(requested) || requested < 1) {
    throw new Error(`maxRequestSockets must be a whole number of at least 1, not ${String(requested)}`);
  }
  return requested;
}

function tlsOptions(connection: ConnectionConfig): {
  secureContext: SecureContext;
  rejectUnauthorized: boolean;
  servername?: string;
} {
  return {
    secureContext: createSecureContext({
      ...(connection.ca !== undefined ? { ca: connection.ca } : {}),
      ...(connection.clientCertificate !== undefined ? { cert: connection.clientCertificate } : {}),
      ...(connection.clientKey !== undefined ? { key: connection.clientKey } : {}),
    }),
    rejectUnauthorized: connection.insecureSkipTlsVerify !== true,
    ...(connection.tlsServerName !== undefined ? { servername: connection.tlsServerName } : {}),
  };
}
