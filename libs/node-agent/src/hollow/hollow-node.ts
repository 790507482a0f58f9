// One hollow node (Kubernetes' kubemark "hollow kubelet"): the agent's real NodeConnection, with its
// own client certificate and its own gRPC channel, registering, heartbeating and streaming pod
// statuses, in front of HollowNodePods instead of the runtime. Many of them share one process.
import { RegisterRequest } from '@flotilla/proto';
import type { Logger } from 'pino';
import { NodeConnection, type ConnectionState, type NodeConnectionTls } from '../connection/node-connection';
import type { BackoffOptions } from '../connection/reconnect-backoff.util';
import { HollowNodePods } from './hollow-node-pods';

export interface HollowNodeCapacity {
  cpu: string;
  memory: string;
  pods: string;
}

export interface HollowNodeOptions {
  name: string;
  /** host:port of the apiserver's NodeService. */
  apiserver: string;
  tls: NodeConnectionTls;
  /** The InternalIP the node registers with (never dialled: hollow nodes serve no logs or exec). */
  address: string;
  /** Reported as both capacity and allocatable (default kubemark's: 4 CPUs, 16Gi, 110 pods). */
  capacity?: HollowNodeCapacity;
  logger: Logger;
  startDelayMs?: number;
  stopDelayMs?: number;
  /**
   * How often the (all-zero) usage goes up (default 15 s: real agents send every 5 s for the
   * autoscaler, but a thousand hollow nodes would only load the apiserver a benchmark measures).
   */
  metricsIntervalMs?: number;
  /** Overrides the apiserver's heartbeat interval (see NodeConnectionOptions). */
  heartbeatIntervalMs?: number;
  backoff?: BackoffOptions;
}

export const HOLLOW_NODE_CAPACITY: HollowNodeCapacity = { cpu: '4', memory: '16Gi', pods: '110' };

export class HollowNode {
  readonly name: string;
  readonly connection: NodeConnection;
  private podsOfNode: HollowNodePods | undefined;
  private state: ConnectionState = 'disconnected';

  constructor(private readonly options: HollowNodeOptions) {
    this.name = options.name;
    const capacity = options.capacity ?? HOLLOW_NODE_CAPACITY;
    this.connection = new NodeConnection({
      apiserver: options.apiserver,
      tls: options.tls,
      registration: () =>
        Promise.resolve(
          RegisterRequest.fromPartial({
            nodeName: options.name,
            addresses: [
              { type: 'InternalIP', address: options.address },
              { type: 'Hostname', address: options.name },
            ],
            capacity: { ...capacity },
            allocatable: { ...capacity },
            info: {
              kernelVersion: 'hollow',
              operatingSystem: 'linux',
              architecture: 'amd64',
              agentVersion: 'hollow',
            },
            agentEndpoint: `${options.address}:10250`,
          }),
        ),
      logger: options.logger,
      metricsIntervalMs: options.metricsIntervalMs ?? 15_000,
      ...(options.heartbeatIntervalMs !== undefined
        ? { heartbeatIntervalMs: options.heartbeatIntervalMs }
        : {}),
      ...(options.backoff !== undefined ? { backoff: options.backoff } : {}),
    });
    this.connection.onState((state) => {
      this.state = state;
    });
  }

  /** The fake pod engine, once registered. */
  get pods(): HollowNodePods | undefined {
    return this.podsOfNode;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Registers (retrying while the apiserver is unreachable), then keeps the Connect stream open. */
  async start(): Promise<void> {
    await this.register();
    this.connect();
  }

  /**
   * Registers only. Many nodes at once register all first and connect after: the apiserver sends
   * every connected agent the whole peer set on each new Node, so interleaving N registrations with
   * N streams costs N² peer messages, while registering first costs one full set per stream.
   */
  async register(): Promise<void> {
    const registration = await this.connection.register();
    this.podsOfNode ??= new HollowNodePods({
      nodeName: this.name,
      nodeIP: this.options.address,
      ...(registration.podCidr ? { podCidr: registration.podCidr } : {}),
      ...(this.options.startDelayMs !== undefined ? { startDelayMs: this.options.startDelayMs } : {}),
      ...(this.options.stopDelayMs !== undefined ? { stopDelayMs: this.options.stopDelayMs } : {}),
    });
  }

  /** Opens the Connect stream (heartbeats, desired pods, statuses); call after register(). */
  connect(): void {
    if (!this.podsOfNode) throw new Error(`hollow node ${this.name} must register before it connects`);
    this.connection.start(this.podsOfNode);
  }

  async close(): Promise<void> {
    await this.connection.close();
    await this.podsOfNode?.close();
  }
}
