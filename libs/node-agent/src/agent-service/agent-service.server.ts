// The agent's own gRPC service (DESIGN.md §3): the apiserver dials it to read a container's logs and to
// run a command in it. Only the apiserver may call: mTLS with the cluster CA, and the client
// certificate's common name must be the apiserver's, so a pod or another node on the network cannot
// read logs or exec into containers by reaching this port.
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import type { Readable } from 'node:stream';
import {
  Metadata,
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type ServerDuplexStream,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import {
  AgentServiceService,
  type ExecInput,
  type ExecOutput,
  type LogChunk,
  type LogsRequest,
} from '@flotilla/proto';
import { NodePodsError, type NodePods, type PodLogsRequest } from '../pods/node-pods.types';
import { ExecRelay } from './exec.relay';

/** The common name of the client certificate the apiserver presents to agents (see libs/cluster pki). */
export const APISERVER_CLIENT_COMMON_NAME = 'flotilla-apiserver';

export interface AgentServiceTls {
  /** The cluster CA: client certificates must chain to it. */
  caFile: string;
  /** This agent's serving certificate and key, signed by the cluster CA. */
  certFile: string;
  keyFile: string;
}

export interface AgentServiceOptions {
  pods: NodePods;
  bindAddress: string;
  /** 0 picks a free port; the running service reports the one it got. */
  port: number;
  tls: AgentServiceTls;
  /** Client certificate common names allowed to call (default: the apiserver's). */
  allowedClients?: readonly string[];
}

export interface RunningAgentService {
  port: number;
  /** host:port as a client dials it. */
  endpoint: string;
  /** Stops accepting calls and ends those in progress (log follows, exec sessions). */
  close(): Promise<void>;
}

type AnyCall = ServerWritableStream<LogsRequest, LogChunk> | ServerDuplexStream<ExecInput, ExecOutput>;

export function grpcCodeOf(error: unknown): GrpcStatus {
  if (!(error instanceof NodePodsError)) return GrpcStatus.INTERNAL;
  switch (error.code) {
    case 'NotFound':
      return GrpcStatus.NOT_FOUND;
    case 'BadRequest':
      return GrpcStatus.INVALID_ARGUMENT;
    case 'Conflict':
      return GrpcStatus.FAILED_PRECONDITION;
    default:
      return GrpcStatus.INTERNAL;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The node-agent's view of a LogsRequest: proto sentinels (-1, 0, "") become absent fields. */
export function podLogsRequestOf(request: LogsRequest): PodLogsRequest {
  return {
    namespace: request.namespace,
    pod: request.pod,
    ...(request.container !== '' ? { container: request.container } : {}),
    follow: request.follow,
    previous: request.previous,
    ...(request.tailLines >= 0n ? { tailLines: Number(request.tailLines) } : {}),
    ...(request.sinceSeconds > 0n ? { sinceSeconds: Number(request.sinceSeconds) } : {}),
    timestamps: request.timestamps,
  };
}

export async function startAgentService(options: AgentServiceOptions): Promise<RunningAgentService> {
  const allowed = new Set(options.allowedClients ?? [APISERVER_CLIENT_COMMON_NAME]);
  const credentials = ServerCredentials.createSsl(
    readFileSync(options.tls.caFile),
    [{ cert_chain: readFileSync(options.tls.certFile), private_key: readFileSync(options.tls.keyFile) }],
    true,
  );
  // Streams in flight, so close() can end follows and exec sessions that would otherwise hold it open.
  const active = new Set<() => void>();

  const refuse = (call: AnyCall): boolean => {
    const certificate = call.getAuthContext().sslPeerCertificate;
    const commonName = certificate?.subject?.CN;
    const names = Array.isArray(commonName) ? commonName : commonName ? [commonName] : [];
    if (names.some((name) => allowed.has(name))) return false;
    call.emit('error', {
      code: GrpcStatus.PERMISSION_DENIED,
      details: `only the apiserver may call AgentService: the client certificate's common name ${
        names.length > 0 ? `"${names.join(',')}"` : '(none)'
      } is not one of ${[...allowed].join(', ')}`,
    });
    return true;
  };

  const logs = (call: ServerWritableStream<LogsRequest, LogChunk>): void => {
    if (refuse(call)) return;
    let source: Readable | undefined;
    let cancelled = false;
    const stop = (): void => {
      cancelled = true;
      source?.destroy();
    };
    active.add(stop);
    call.on('cancelled', stop);
    call.on('close', () => active.delete(stop));
    options.pods.logs(podLogsRequestOf(call.request)).then(
      (readable) => {
        source = readable;
        if (cancelled) {
          readable.destroy();
          return;
        }
        // Headers now tell the apiserver the log exists, so it can answer 200 before the first line
        // arrives (a follow of a quiet container) rather than hold the HTTP response until then.
        call.sendMetadata(new Metadata());
        readable.on('data', (chunk: Buffer | string) => {
          const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          if (!call.write({ data })) readable.pause();
        });
        call.on('drain', () => readable.resume());
        readable.once('end', () => call.end());
        readable.once('error', (error) => {
          if (!cancelled) call.emit('error', { code: grpcCodeOf(error), details: messageOf(error) });
        });
      },
      (error: unknown) => call.emit('error', { code: grpcCodeOf(error), details: messageOf(error) }),
    );
  };

  const exec = (call: ServerDuplexStream<ExecInput, ExecOutput>): void => {
    if (refuse(call)) return;
    const relay = new ExecRelay({ pods: options.pods, call });
    const stop = (): void => relay.abort();
    active.add(stop);
    call.on('close', () => active.delete(stop));
    relay.run();
  };

  const server = new Server();
  server.addService(AgentServiceService, { logs, exec });
  const host = isIPv6(options.bindAddress) ? `[${options.bindAddress}]` : options.bindAddress;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port}`, credentials, (error, bound) => {
      if (error) {
        reject(
          new Error(
            `cannot serve AgentService on ${host}:${options.port}: ${error.message} (is another process using the port?)`,
          ),
        );
      } else resolve(bound);
    });
  });
  return {
    port,
    endpoint: `${host}:${port}`,
    close: async () => {
      for (const stop of [...active]) stop();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
