// The gRPC NodeService agents dial (DESIGN.md §3): mutual TLS with the cluster CA, each node known by
// its client certificate (CN system:node:<name>) and allowed to speak only for itself. Register
// writes the Node and hands out its pod range; Connect runs a NodeSession; GetObject serves the
// ConfigMaps and Secrets of pods bound to the caller.
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { Node, Pod } from '@flotilla/api';
import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type ServerDuplexStream,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  NodeServiceService,
  type AgentMessage,
  type GetObjectRequest,
  type GetObjectResponse,
  type NodeServiceServer,
  type RegisterRequest,
  type RegisterResponse,
  type ServerMessage,
} from '@flotilla/proto';
import type { Store } from '@flotilla/store';
import type { Logger } from 'pino';
import { AcceptedConnections } from '../http/accepted-connections';
import { ApiError } from '../http/api-error';
import type { UsageSink } from '../metrics/usage-samples.store';
import type { ResourceHandler } from '../resources/resource-handler';
import { NodeDirectory } from './node-directory';
import { nodeNameOf } from './node-identity.util';
import { NodeObjects, apiErrorCode, isConflict } from './node-objects.adapter';
import { RegistrationError, nodeFromRegistration } from './node-registration.util';
import { NodeSession } from './node-session';
import { ServiceFeed } from './service-feed';
import { PodCidrAllocator, PodCidrExhaustedError } from './pod-cidr.allocator';
import { parseCidr } from './pod-cidr.util';
import { podReferences, referenceKey } from './pod-references.util';

export interface NodeServiceOptions {
  /** 0 picks a free port (tests). */
  port: number;
  bindAddress: string;
  /** The apiserver's serving certificate and key: agents verify it against the cluster CA. */
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  /** The CA that signed the node client certificates (the cluster CA). */
  clientCaFile: string;
  /** The pod range of the cluster; each node gets a /24 of it (default 10.244.0.0/16, as flannel). */
  clusterCidr?: string;
  /** Service virtual IPs (default 10.96.0.0/12, as kube-apiserver). */
  serviceCidr?: string;
  clusterDns?: string;
  /** How often agents send a heartbeat (default 5 s, a third of the node lifecycle's 15 s grace). */
  heartbeatIntervalSeconds?: number;
  /** How often an unchanged Node status is rewritten anyway (default 60 s); the Lease carries liveness. */
  statusReportIntervalMs?: number;
  /** The node Lease's duration (default 40 s, as kubelet's). */
  leaseDurationSeconds?: number;
}

export interface NodeServiceDependencies {
  handler: ResourceHandler;
  store: Store;
  logger: Logger;
  /** Where the usage samples agents report go. */
  metrics: UsageSink;
}

export interface RunningNodeService {
  /** The port NodeService listens on. */
  port: number;
  close(): Promise<void>;
}

/** The field manager of the Node, Lease and pod status writes made for agents. */
export const NODE_FIELD_MANAGER = 'flotilla-node-agent';
const SUPPORTED_OBJECT_KINDS = new Set(['ConfigMap', 'Secret']);

function grpcError(code: GrpcStatus, details: string): ServerErrorResponse {
  return Object.assign(new Error(details), { code, details });
}

/** The node named by the caller's client certificate. */
function callerNode(call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>): string | undefined {
  return nodeNameOf(call.getAuthContext().sslPeerCertificate?.subject?.CN);
}

function toGrpcError(error: unknown): ServerErrorResponse {
  if (error instanceof RegistrationError) return grpcError(GrpcStatus.INVALID_ARGUMENT, error.message);
  if (error instanceof PodCidrExhaustedError) return grpcError(GrpcStatus.RESOURCE_EXHAUSTED, error.message);
  if (error instanceof ApiError) {
    const code =
      error.code === 400 || error.code === 422
        ? GrpcStatus.INVALID_ARGUMENT
        : error.code === 404
          ? GrpcStatus.NOT_FOUND
          : error.code === 409
            ? GrpcStatus.ABORTED
            : error.code === 403
              ? GrpcStatus.PERMISSION_DENIED
              : GrpcStatus.UNAVAILABLE;
    return grpcError(code, error.message);
  }
  return grpcError(
    GrpcStatus.UNAVAILABLE,
    `the apiserver could not complete the request: ${String(error)}; retry`,
  );
}

export async function startNodeService(
  options: NodeServiceOptions,
  deps: NodeServiceDependencies,
): Promise<RunningNodeService> {
  const logger = deps.logger.child({ service: 'NodeService' });
  const clusterCidr = options.clusterCidr ?? '10.244.0.0/16';
  const serviceCidr = options.serviceCidr ?? '10.96.0.0/12';
  parseCidr(serviceCidr);
  const allocator = new PodCidrAllocator({ store: deps.store, clusterCidr });
  const objects = new NodeObjects(deps.handler, NODE_FIELD_MANAGER);
  const metrics = deps.metrics;
  const directory = new NodeDirectory({ objects, allocator, metrics, logger });
  await directory.start();
  const services = new ServiceFeed({ objects, logger });
  try {
    await services.start();
  } catch (error) {
    directory.stop();
    throw error;
  }
  const sessions = new Map<string, NodeSession>();
  /** Per node: resolves once its latest session has closed and written all it was sent. */
  const draining = new Map<string, Promise<void>>();
  const heartbeatIntervalSeconds = options.heartbeatIntervalSeconds ?? 5;

  async function register(request: RegisterRequest): Promise<RegisterResponse> {
    const name = request.nodeName;
    for (let attempt = 1; ; attempt++) {
      const live = await objects.get<Node>({ kind: 'Node', name });
      const podCidr = await allocator.allocate(name, live?.spec?.podCIDR);
      const node = nodeFromRegistration({ request, podCidr, ...(live ? { live } : {}) });
      try {
        if (!live) {
          await objects.create({ kind: 'Node', name }, node);
        } else {
          const updated = await objects.update({ kind: 'Node', name }, node);
          await objects.update({ kind: 'Node', name }, { ...updated, status: node.status }, 'status');
        }
        return {
          podCidr,
          heartbeatIntervalSeconds,
          serviceCidr,
          clusterDns: options.clusterDns ?? '',
          clusterCidr: allocator.clusterCidr,
        };
      } catch (error) {
        // Someone else wrote the Node meanwhile (another agent start, the node lifecycle controller).
        const raced = isConflict(error) || apiErrorCode(error) === 409;
        if (!raced || attempt >= 5) throw error;
      }
    }
  }

  async function getObject(node: string, request: GetObjectRequest): Promise<GetObjectResponse> {
    if (!SUPPORTED_OBJECT_KINDS.has(request.kind)) {
      throw grpcError(GrpcStatus.INVALID_ARGUMENT, `kind must be ConfigMap or Secret, got "${request.kind}"`);
    }
    const kind = request.kind as 'ConfigMap' | 'Secret';
    const pods = await objects.list<Pod>({
      kind: 'Pod',
      namespace: request.namespace,
      fieldSelector: `spec.nodeName=${node}`,
    });
    const key = referenceKey(kind, request.name);
    if (!pods.some((pod) => podReferences(pod).has(key))) {
      throw grpcError(
        GrpcStatus.PERMISSION_DENIED,
        `node ${node} may read only the ConfigMaps and Secrets of pods bound to it; no pod on it references ${kind} ${request.namespace}/${request.name}`,
      );
    }
    const object = await objects.get({ kind, namespace: request.namespace, name: request.name });
    if (!object)
      throw grpcError(GrpcStatus.NOT_FOUND, `${kind} ${request.namespace}/${request.name} not found`);
    return { objectJson: Buffer.from(JSON.stringify(object)) };
  }

  const implementation: NodeServiceServer = {
    register: (
      call: ServerUnaryCall<RegisterRequest, RegisterResponse>,
      callback: sendUnaryData<RegisterResponse>,
    ) => {
      const node = callerNode(call);
      if (node === undefined || node !== call.request.nodeName) {
        callback(
          grpcError(
            GrpcStatus.PERMISSION_DENIED,
            node === undefined
              ? 'the client certificate is not a node certificate (CN system:node:<name>)'
              : `the certificate of node ${node} may not register node "${call.request.nodeName}": a node registers only itself`,
          ),
        );
        return;
      }
      register(call.request).then(
        (response) => {
          logger.info({ node, podCidr: response.podCidr }, 'node registered');
          callback(null, response);
        },
        (error: unknown) => {
          logger.warn({ node, err: error }, 'node registration failed');
          callback(toGrpcError(error));
        },
      );
    },
    connect: (call: ServerDuplexStream<AgentMessage, ServerMessage>) => {
      const node = callerNode(call);
      if (node === undefined) {
        call.emit(
          'error',
          grpcError(
            GrpcStatus.PERMISSION_DENIED,
            'the client certificate is not a node certificate (CN system:node:<name>)',
          ),
        );
        return;
      }
      // One stream per node: a reconnecting agent replaces the stream the server has not noticed is dead.
      sessions.get(node)?.close(GrpcStatus.ABORTED, `a newer connection from node ${node} replaced this one`);
      const previousWrites = draining.get(node);
      const session: NodeSession = new NodeSession({
        nodeName: node,
        call,
        objects,
        directory,
        services,
        metrics,
        logger,
        statusReportIntervalMs: options.statusReportIntervalMs ?? 60_000,
        leaseDurationSeconds: options.leaseDurationSeconds ?? 40,
        ...(previousWrites ? { previousWrites } : {}),
        onClosed: () => {
          if (sessions.get(node) === session) sessions.delete(node);
        },
      });
      sessions.set(node, session);
      // Each session's writes finish before the next session's begin (see previousWrites): its
      // idle() waits for its own previous session too, as its writes wait for that first.
      const drained: Promise<void> = session.closedAndIdle().then(() => {
        if (draining.get(node) === drained) draining.delete(node);
      });
      draining.set(node, drained);
      session.start().catch((error: unknown) => {
        logger.warn({ node, err: error }, 'could not start the node stream');
        session.close(
          GrpcStatus.UNAVAILABLE,
          `the apiserver could not start the stream: ${String(error)}; reconnect`,
        );
      });
    },
    getObject: (
      call: ServerUnaryCall<GetObjectRequest, GetObjectResponse>,
      callback: sendUnaryData<GetObjectResponse>,
    ) => {
      const node = callerNode(call);
      if (node === undefined) {
        callback(
          grpcError(
            GrpcStatus.PERMISSION_DENIED,
            'the client certificate is not a node certificate (CN system:node:<name>)',
          ),
        );
        return;
      }
      getObject(node, call.request).then(
        (response) => callback(null, response),
        (error: unknown) =>
          callback(
            typeof error === 'object' && error !== null && 'code' in error && !(error instanceof ApiError)
              ? (error as ServerErrorResponse)
              : toGrpcError(error),
          ),
      );
    },
  };

  const server = new Server({
    // Find agents whose host vanished without closing TCP, and let their pings through. The answer
    // may take gRPC's default 20 s: at 5 s a busy event loop (1,000 agents connecting on 2 cores)
    // missed pings and every stream was cut at once, and each reconnect registers again.
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  });
  server.addService(NodeServiceService, implementation);
  const credentials = ServerCredentials.createSsl(
    readFileSync(options.clientCaFile),
    [{ cert_chain: readFileSync(options.tlsCertFile), private_key: readFileSync(options.tlsPrivateKeyFile) }],
    true,
  );
  // We accept the TCP connections ourselves and hand them to gRPC, so that close() can stop
  // accepting before it tells agents to reconnect, and end connections still in their handshake.
  const injector = server.createConnectionInjector(credentials);
  const connections = new AcceptedConnections();
  const listener = createTcpServer((socket) => {
    connections.add(socket);
    injector.injectConnection(socket);
  });
  let port: number;
  try {
    port = await listen(listener, options.bindAddress, options.port);
  } catch (error) {
    directory.stop();
    throw new Error(
      `NodeService cannot listen on ${options.bindAddress}:${options.port}: ${error instanceof Error ? error.message : String(error)}; choose another --grpc-port`,
    );
  }
  // An accept that fails (out of file descriptors) is the server's to report, not to die of; the
  // agent retries its connection.
  listener.on('error', (error) => logger.warn({ err: error }, 'NodeService could not accept a connection'));
  logger.info({ port, clusterCidr: allocator.clusterCidr }, 'NodeService listening');
  return {
    port,
    async close() {
      // First stop accepting: the agents told below to reconnect must find the port closed, not a
      // server that takes their connection and then drops it.
      const stopped = new Promise<void>((resolve) => listener.close(() => resolve()));
      directory.stop();
      services.stop();
      const open = [...sessions.values()];
      for (const session of open)
        session.close(GrpcStatus.UNAVAILABLE, 'the apiserver is shutting down: reconnect');
      await Promise.all(open.map((session) => session.idle()));
      server.forceShutdown();
      injector.destroy();
      connections.destroyAll();
      await stopped;
    },
  };
}

function listen(listener: TcpServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ host, port }, () => {
      listener.off('error', reject);
      const address = listener.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
