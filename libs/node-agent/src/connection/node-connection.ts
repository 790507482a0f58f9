// The agent's side of the node protocol (DESIGN.md §3): Register, then one Connect stream kept open for
// the agent's life. Down the stream come the desired pods (handed to the pod engine through NodePods)
// and the peer set (turned into host-gw routes); up go heartbeats on the interval the apiserver
// names, every pod status change, and usage samples. A broken stream is re-dialled with capped,
// jittered back-off, registering again first; after each reconnect every pod's current status is
// sent again, so nothing reported while disconnected is lost (level-triggered).
import { readFileSync } from 'node:fs';
import type { Endpoints, Pod, Service } from '@flotilla/api';
import {
  Metadata,
  credentials,
  status as GrpcStatus,
  type ChannelCredentials,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  NodeServiceClient,
  PodChange_Type,
  type AgentMessage,
  type NodeCondition,
  type Peer,
  type RegisterRequest,
  type RegisterResponse,
  type ServerMessage,
  type ServiceObject,
  ServiceObjectChange_Type,
} from '@flotilla/proto';
import type { Logger } from 'pino';
import type { NodePods, PodStatusReport } from '../pods/node-pods.types';
import type { ResolveObject } from '../pods/volumes/pod-volumes';
import type { ServiceTableObject } from '../services/service-table';
import { noPressureConditions } from '../pressure/eviction-threshold.util';
import { planPeerRoutes, type PeerRoute } from './peer-routes.util';
import { DEFAULT_RECONNECT_BACKOFF, reconnectDelay, type BackoffOptions } from './reconnect-backoff.util';

/** Where host-gw routes to other nodes' pod ranges go (BridgeNetwork provides both). */
export interface PeerRouteTable {
  addPeerRoute(route: PeerRoute): Promise<void>;
  removePeerRoute(subnet: string): Promise<void>;
}

/** Where the Services and Endpoints that come down the stream go (the agent's ServiceTable). */
export interface ServiceObjectSink {
  replaceAll(objects: readonly ServiceTableObject[]): void;
  upsert(object: ServiceTableObject): void;
  remove(kind: ServiceTableObject['kind'], namespace: string, name: string): void;
}

export interface NodeConnectionTls {
  /** The cluster CA: the apiserver's certificate must chain to it. */
  caFile: string;
  /** The node's client certificate (CN system:node:<name>) and key. */
  certFile: string;
  keyFile: string;
}

export interface NodeConnectionOptions {
  /** host:port of the apiserver's NodeService. */
  apiserver: string;
  tls: NodeConnectionTls;
  /** What Register sends (read again before every registration, so capacity stays current). */
  registration: () => Promise<RegisterRequest>;
  logger: Logger;
  /** The service table; without it Services and Endpoints from the apiserver are ignored. */
  services?: ServiceObjectSink;
  /** Host-gw routes to peers; without it the peer set is ignored (a single node). */
  peerRoutes?: PeerRouteTable;
  /** The node's conditions for each heartbeat (default: Ready, no pressure). */
  conditions?: () => NodeCondition[];
  /**
   * How often heartbeats (and with them the node's Lease) go up; without it, what Register answers
   * (the apiserver's default 5 s). Each one costs the apiserver a Lease write, so large clusters
   * renew less often: kubelet renews every 10 s, a quarter of its 40 s Lease. It must stay well
   * under the node lifecycle controller's grace period, or healthy nodes are marked NotReady.
   */
  heartbeatIntervalMs?: number;
  /** How often usage samples go up (default 5 s: the autoscaler acts on a load step within seconds). */
  metricsIntervalMs?: number;
  backoff?: BackoffOptions;
  /** For tests of the back-off: a source of [0, 1) numbers (default Math.random). */
  random?: () => number;
}

export type ConnectionState = 'connected' | 'disconnected';

/** Register failed in a way retrying cannot fix (wrong certificate, invalid node); the message says what to do. */
export class NodeRegistrationError extends Error {
  override readonly name = 'NodeRegistrationError';
}

const PERMANENT_CODES = new Set([
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.UNAUTHENTICATED,
  GrpcStatus.INVALID_ARGUMENT,
]);
const REGISTER_DEADLINE_MS = 10_000;

export function defaultNodeConditions(): NodeCondition[] {
  return [
    ...noPressureConditions(),
    {
      type: 'Ready',
      status: 'True',
      reason: 'AgentReady',
      message: 'the node agent is posting ready status',
    },
  ];
}

function isServiceError(error: unknown): error is ServiceError {
  return typeof error === 'object' && error !== null && 'code' in error && 'details' in error;
}

function describe(error: unknown): string {
  if (isServiceError(error)) return `${GrpcStatus[error.code] ?? error.code}: ${error.details}`;
  return error instanceof Error ? error.message : String(error);
}

function statusMessage(report: PodStatusReport): AgentMessage {
  return {
    payload: {
      $case: 'podStatus',
      value: {
        namespace: report.namespace,
        name: report.name,
        uid: report.uid,
        statusJson: Buffer.from(JSON.stringify(report.status)),
        released: report.released,
      },
    },
  };
}

function podOf(json: Uint8Array): Pod {
  return JSON.parse(Buffer.from(json).toString('utf8')) as Pod;
}

function serviceObjectOf(object: ServiceObject): ServiceTableObject[] {
  // A malformed object is dropped here; the next full set or change carries the good one.
  const parsed: unknown = JSON.parse(Buffer.from(object.objectJson).toString('utf8'));
  if (object.kind === 'Service') return [{ kind: 'Service', object: parsed as Service }];
  if (object.kind === 'Endpoints') return [{ kind: 'Endpoints', object: parsed as Endpoints }];
  return [];
}

export class NodeConnection {
  private readonly logger: Logger;
  private readonly credentials: ChannelCredentials;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private client: NodeServiceClient | undefined;
  private call: ClientDuplexStream<AgentMessage, ServerMessage> | undefined;
  private closed = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private heartbeatIntervalMs = 5_000;
  private readonly installedRoutes = new Map<string, string>();
  private peers: Peer[] = [];
  private routesDirty = false;
  private routing: Promise<void> = Promise.resolve();
  /** From the last registration request; peers by this name are this node. */
  private nodeName = '';
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  /** The latest Register answer (pod range, heartbeat interval, cluster ranges). */
  registration: RegisterResponse | undefined;

  constructor(private readonly options: NodeConnectionOptions) {
    this.logger = options.logger.child({ component: 'node-connection' });
    this.backoff = options.backoff ?? DEFAULT_RECONNECT_BACKOFF;
    this.random = options.random ?? Math.random;
    const read = (what: string, file: string): Buffer => {
      try {
        return readFileSync(file);
      } catch (error) {
        throw new NodeRegistrationError(`cannot read the ${what} ${file}: ${describe(error)}`);
      }
    };
    this.credentials = credentials.createSsl(
      read('CA file (--ca-file)', options.tls.caFile),
      read('key file (--key-file)', options.tls.keyFile),
      read('certificate file (--cert-file)', options.tls.certFile),
    );
  }

  private heartbeatIntervalFor(response: RegisterResponse): number {
    return this.options.heartbeatIntervalMs ?? Math.max(1, response.heartbeatIntervalSeconds || 5) * 1000;
  }

  private newClient(): NodeServiceClient {
    this.client?.close();
    this.client = new NodeServiceClient(this.options.apiserver, this.credentials, {
      // Notice a vanished apiserver (or a cut network) without waiting for TCP to time out; a busy
      // apiserver gets gRPC's default 20 s to answer a ping (see its server options).
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 1,
      // Our own back-off paces reconnects; the channel's must not add minutes on top of it.
      'grpc.initial_reconnect_backoff_ms': this.backoff.initialMs,
      'grpc.max_reconnect_backoff_ms': this.backoff.maxMs,
    });
    return this.client;
  }

  private registerOnce(): Promise<RegisterResponse> {
    const client = this.client ?? this.newClient();
    return this.options.registration().then((request) => {
      this.nodeName = request.nodeName;
      return new Promise<RegisterResponse>((resolve, reject) => {
        client.register(
          request,
          new Metadata(),
          { deadline: Date.now() + REGISTER_DEADLINE_MS },
          (error, response) => (error ? reject(error) : resolve(response)),
        );
      });
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * Registers the node, retrying with back-off while the apiserver is unreachable. Fails with
   * NodeRegistrationError when the apiserver refuses this node (certificate, name, input).
   */
  async register(): Promise<RegisterResponse> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new NodeRegistrationError('the node connection was closed before registering');
      try {
        const response = await this.registerOnce();
        this.registration = response;
        this.heartbeatIntervalMs = this.heartbeatIntervalFor(response);
        this.logger.info({ podCidr: response.podCidr, clusterCidr: response.clusterCidr }, 'node registered');
        return response;
      } catch (error) {
        if (isServiceError(error) && PERMANENT_CODES.has(error.code)) {
          throw new NodeRegistrationError(`the apiserver refused to register this node: ${error.details}`);
        }
        const delay = reconnectDelay(attempt, this.backoff, this.random());
        this.logger.warn({ error: describe(error), retryInMs: delay }, 'could not register; retrying');
        this.newClient();
        await this.sleep(delay);
      }
    }
  }

  /** Serves the pod engine's ConfigMap and Secret reads from the apiserver (absent: undefined). */
  readonly resolveObject: ResolveObject = (reference) =>
    new Promise((resolve, reject) => {
      const client = this.client ?? this.newClient();
      client.getObject(
        reference,
        new Metadata(),
        { deadline: Date.now() + REGISTER_DEADLINE_MS },
        (error, response) => {
          if (error) {
            if (error.code === GrpcStatus.NOT_FOUND) resolve(undefined);
            else
              reject(
                new Error(
                  `reading ${reference.kind} ${reference.namespace}/${reference.name}: ${describe(error)}`,
                ),
              );
            return;
          }
          try {
            resolve(JSON.parse(Buffer.from(response.objectJson).toString('utf8')) as object);
          } catch (parseError) {
            reject(parseError instanceof Error ? parseError : new Error(String(parseError)));
          }
        },
      );
    });

  /** Called on every connect and disconnect; returns the unsubscribe function. */
  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Starts the Connect loop feeding `pods`; call after register(). */
  start(pods: NodePods): void {
    if (this.running) throw new Error('the node connection is already running');
    this.running = this.loop(pods);
  }

  private async loop(pods: NodePods): Promise<void> {
    let attempt = 0;
    let registered = this.registration !== undefined;
    while (!this.closed) {
      let healthy = false;
      try {
        if (!registered) {
          this.registration = await this.registerOnce();
          this.heartbeatIntervalMs = this.heartbeatIntervalFor(this.registration);
        }
        healthy = await this.stream(pods);
      } catch (error) {
        this.logger.warn({ error: describe(error) }, 'node connection failed');
      }
      registered = false;
      if (this.closed) break;
      if (healthy) attempt = 0;
      const delay = reconnectDelay(attempt++, this.backoff, this.random());
      this.logger.info({ retryInMs: delay }, 'reconnecting to the apiserver');
      this.newClient();
      await this.sleep(delay);
    }
  }

  /** One Connect stream, until it ends; true when it delivered the desired set (a good connection). */
  private stream(pods: NodePods): Promise<boolean> {
    const client = this.client ?? this.newClient();
    const call = client.connect();
    this.call = call;
    let delivered = false;
    const send = (message: AgentMessage): void => {
      if (this.call === call && !call.writableEnded) call.write(message);
    };
    const heartbeat = (): void => {
      const conditions = (this.options.conditions ?? defaultNodeConditions)();
      send({ payload: { $case: 'heartbeat', value: { conditions, time: new Date().toISOString() } } });
      if (this.routesDirty) this.reconcileRoutes();
    };
    const report = (): void => {
      pods.usage().then(
        (usage) =>
          send({
            payload: {
              $case: 'metrics',
              value: {
                time: usage.time,
                nodeCpuUsageNanoseconds: usage.nodeCpuUsageNanos,
                nodeMemoryWorkingSetBytes: BigInt(usage.nodeMemoryWorkingSetBytes),
                pods: usage.pods.map((pod) => ({
                  namespace: pod.namespace,
                  name: pod.name,
                  uid: pod.uid,
                  containers: pod.containers.map((container) => ({
                    name: container.name,
                    cpuUsageNanoseconds: container.cpuUsageNanos,
                    memoryWorkingSetBytes: BigInt(container.memoryWorkingSetBytes),
                  })),
                })),
              },
            },
          }),
        (error: unknown) => this.logger.warn({ error: describe(error) }, 'could not read node usage'),
      );
    };
    return new Promise<boolean>((resolve) => {
      // Statuses first reach the apiserver from here: whatever changed while disconnected is re-sent.
      heartbeat();
      for (const status of pods.currentStatuses()) send(statusMessage(status));
      const unsubscribe = pods.onStatus((status) => send(statusMessage(status)));
      const timers: NodeJS.Timeout[] = [];
      let finished = false;
      const finish = (reason: string): void => {
        if (finished) return;
        finished = true;
        unsubscribe();
        for (const timer of timers) clearInterval(timer);
        if (this.call === call) this.call = undefined;
        if (!call.writableEnded) call.end();
        this.logger.info({ reason }, 'node stream ended');
        for (const listener of this.stateListeners) listener('disconnected');
        resolve(delivered);
      };
      call.on('data', (message: ServerMessage) => {
        const payload = message.payload;
        try {
          switch (payload?.$case) {
            case 'fullSet':
              pods.replaceDesired(payload.value.pods.map((pod) => podOf(pod.podJson)));
              if (!delivered) {
                delivered = true;
                this.logger.info({ pods: payload.value.pods.length }, 'node stream connected');
                for (const listener of this.stateListeners) listener('connected');
              }
              return;
            case 'change': {
              const pod = payload.value.pod;
              if (!pod) return;
              if (payload.value.type === PodChange_Type.DELETE) pods.removeDesired(pod.uid);
              else pods.upsertDesired(podOf(pod.podJson));
              return;
            }
            case 'peers':
              this.peers = payload.value.peers;
              this.routesDirty = true;
              this.reconcileRoutes();
              return;
            case 'services':
              this.options.services?.replaceAll(payload.value.objects.flatMap(serviceObjectOf));
              return;
            case 'serviceChange': {
              const object = payload.value.object;
              if (!object || (object.kind !== 'Service' && object.kind !== 'Endpoints')) return;
              if (payload.value.type === ServiceObjectChange_Type.DELETE)
                this.options.services?.remove(object.kind, object.namespace, object.name);
              else for (const entry of serviceObjectOf(object)) this.options.services?.upsert(entry);
              return;
            }
            default:
              return;
          }
        } catch (error) {
          this.logger.warn({ error: describe(error) }, 'could not apply a message from the apiserver');
        }
      });
      call.on('error', (error: unknown) => finish(describe(error)));
      call.on('end', () => finish('the apiserver ended the stream'));
      call.on('close', () => finish('the stream closed'));
      timers.push(setInterval(heartbeat, this.heartbeatIntervalMs));
      timers.push(setInterval(report, this.options.metricsIntervalMs ?? 5_000));
    });
  }

  /** Brings the host-gw routes in line with the latest peer set; failures are retried on the next heartbeat. */
  private reconcileRoutes(): void {
    const table = this.options.peerRoutes;
    if (!table) {
      this.routesDirty = false;
      return;
    }
    this.routing = this.routing.then(async () => {
      if (!this.routesDirty) return;
      this.routesDirty = false;
      const plan = planPeerRoutes({
        nodeName: this.nodeName,
        installed: this.installedRoutes,
        peers: this.peers,
      });
      for (const subnet of plan.remove) {
        try {
          await table.removePeerRoute(subnet);
          this.installedRoutes.delete(subnet);
          this.logger.info({ subnet }, 'removed the route to a peer');
        } catch (error) {
          this.routesDirty = true;
          this.logger.warn(
            { subnet, error: describe(error) },
            'could not remove the route to a peer; retrying',
          );
        }
      }
      for (const route of plan.add) {
        try {
          await table.addPeerRoute(route);
          this.installedRoutes.set(route.subnet, route.via);
          this.logger.info(route, "routed a peer's pod range");
        } catch (error) {
          this.routesDirty = true;
          this.logger.warn(
            { ...route, error: describe(error) },
            "could not route a peer's pod range; retrying",
          );
        }
      }
    });
  }

  /** Ends the stream and stops reconnecting. Pods and peer routes stay as they are for the next agent. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    const call = this.call;
    this.call = undefined;
    if (call && !call.writableEnded) call.end();
    call?.cancel();
    await this.running;
    await this.routing;
    this.client?.close();
  }
}
