// Unary calls of etcd's KV service (Range, Txn, Compact) as plain gRPC over one HTTP/2 connection
// of our own (grpc-unary.connection). Every apiserver write is one of these calls: the etcd3
// package (cockatiel policies, grpc-js call stack, proto-loader objects with defaults) spent
// ~0.35 ms of CPU more per call than a bare HTTP/2 stream, and node:http2 ~40 µs more than our own
// framing. Watches stay on etcd3: its watch stream multiplexing and resumption are worth their
// cost, and they are not per request.
//
// gRPC on the wire: a POST to /etcdserverpb.KV/<Method> with content-type application/grpc, the
// request as one length-prefixed message (1 byte compressed flag, 4 bytes big-endian length), the
// answer likewise, and the outcome in the grpc-status / grpc-message trailers (or in the headers
// when the server answers with trailers only).
import { connect as connectTcp, isIP } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { grpcFramed } from './etcd-protobuf.util';
import {
  EtcdCallError,
  GrpcStatus,
  GrpcUnaryConnection,
  requestHeaderBlock,
  timeoutHeader,
  type CallStream,
} from './grpc-unary.connection';

export { EtcdCallError };

export interface EtcdKvClientOptions {
  /**
   * etcd client URLs (http:// or https:// with the system's CAs); calls go to the first that
   * accepts a connection.
   */
  endpoints: string[];
  /** Largest answer accepted; a bigger one fails the call instead of exhausting memory. */
  maxResponseBytes?: number;
}

export type KvMethod = 'Range' | 'Txn' | 'Compact';
const KV_METHODS: readonly KvMethod[] = ['Range', 'Txn', 'Compact'];

const DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024 * 1024;
/**
 * Calls on the wire at once; more wait in order. A burst (an apiserver catching up on thousands of
 * pod status writes) otherwise meets etcd's "too many requests" (5,000 proposals pending): 15,000
 * concurrent creates failed by the thousand that way. 1,024 keeps etcd's pipeline full.
 */
const MAX_CALLS_IN_FLIGHT = 1024;

export class EtcdKvClient {
  private readonly endpoints: string[];
  private readonly maxResponseBytes: number;
  private connection: GrpcUnaryConnection | undefined;
  /** Each method's request headers for the current connection, without grpc-timeout. */
  private headerBlocks = new Map<KvMethod, Buffer>();
  private endpointIndex = 0;
  /** Calls sent and not yet answered; see MAX_CALLS_IN_FLIGHT. */
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private closed = false;

  constructor(options: EtcdKvClientOptions) {
    if (options.endpoints.length === 0) throw new Error('EtcdKvClient needs at least one etcd endpoint');
    this.endpoints = options.endpoints;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  /** The open connection, or a new one to the next endpoint after the last one failed. */
  private connect(): GrpcUnaryConnection {
    if (this.closed) throw new EtcdCallError(GrpcStatus.Cancelled, 'the etcd client is closed');
    if (this.connection?.isAccepting()) return this.connection;
    const endpoint = this.endpoints[this.endpointIndex % this.endpoints.length] ?? '';
    const url = new URL(endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EtcdCallError(
        GrpcStatus.InvalidArgument,
        `etcd endpoint ${endpoint}: give an http:// or https:// URL, e.g. http://127.0.0.1:2379`,
      );
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 2379);
    // Requests are single small writes answered at once: Nagle's algorithm would only delay them.
    // SNI takes host names only (RFC 6066).
    const socket =
      url.protocol === 'https:'
        ? connectTls({
            host,
            port,
            servername: isIP(host) ? undefined : host,
            ALPNProtocols: ['h2'],
          }).setNoDelay(true)
        : connectTcp({ host, port, noDelay: true });
    const connection = new GrpcUnaryConnection({
      socket,
      onRetire: () => {
        if (this.connection === connection) {
          this.connection = undefined;
          // The next call tries the next endpoint: this one went away or never answered.
          this.endpointIndex++;
        }
      },
    });
    const authority = url.host;
    const scheme = url.protocol.slice(0, -1);
    this.headerBlocks = new Map(
      KV_METHODS.map((method) => [
        method,
        requestHeaderBlock({ scheme, authority, path: `/etcdserverpb.KV/${method}` }),
      ]),
    );
    this.connection = connection;
    return connection;
  }

  /** One unary call; the answer is the response message's bytes. */
  call(method: KvMethod, request: Buffer, deadline: { timeoutMs: number }): Promise<Buffer> {
    return this.callFramed(method, grpcFramed(request), deadline);
  }

  /**
   * call() for a request already in its gRPC frame (encodeTxnRequestFramed). Past
   * MAX_CALLS_IN_FLIGHT a call waits its turn, and the wait counts against its deadline.
   */
  async callFramed(method: KvMethod, framed: Buffer, deadline: { timeoutMs: number }): Promise<Buffer> {
    let timeoutMs = deadline.timeoutMs;
    if (this.inFlight >= MAX_CALLS_IN_FLIGHT) {
      const queuedAt = performance.now();
      await this.turn(deadline.timeoutMs);
      timeoutMs = deadline.timeoutMs - (performance.now() - queuedAt);
      if (timeoutMs <= 0) {
        this.release();
        throw new EtcdCallError(GrpcStatus.DeadlineExceeded, `no answer within ${deadline.timeoutMs} ms`);
      }
    } else this.inFlight++;
    try {
      return await this.send(method, framed, timeoutMs, deadline.timeoutMs);
    } finally {
      this.release();
    }
  }

  /** Resolves once a call slot is this caller's (inFlight already counts it). */
  private turn(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new EtcdCallError(GrpcStatus.DeadlineExceeded, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push(waiter);
    });
  }

  /** A call ended: its slot goes to the longest waiter, if any. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  /** `timeoutMs` is what is left of the call's deadline of `deadlineMs`. */
  private send(method: KvMethod, framed: Buffer, timeoutMs: number, deadlineMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let connection: GrpcUnaryConnection;
      try {
        connection = this.connect();
      } catch (error) {
        reject(error);
        return;
      }
      let settled = false;
      let timer: NodeJS.Timeout | undefined = undefined;
      const prefix = this.headerBlocks.get(method) ?? Buffer.alloc(0);
      const stream: CallStream = connection.start({
        headerBlock: Buffer.concat([prefix, timeoutHeader(timeoutMs)]),
        body: framed,
        maxResponseBytes: this.maxResponseBytes,
        settle: (error, message) => {
          if (settled) return;
          settled = true;
          if (timer) clearTimeout(timer);
          if (error) reject(error);
          else resolve(message ?? Buffer.alloc(0));
        },
      });
      if (settled) return;
      timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        connection.cancel(stream);
        reject(new EtcdCallError(GrpcStatus.DeadlineExceeded, `no answer within ${deadlineMs} ms`));
      }, timeoutMs);
    });
  }

  close(): void {
    this.closed = true;
    this.connection?.close();
    this.connection = undefined;
  }
}
