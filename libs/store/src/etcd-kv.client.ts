// Unary calls of etcd's KV service (Range, Txn, Compact) as plain gRPC over one node:http2 session.
// Every apiserver write is one of these calls, and measured here the etcd3 package (cockatiel
// policies, grpc-js call stack, proto-loader objects with defaults) spent ~0.35 ms of CPU and
// ~0.25 ms of latency more per call than a bare HTTP/2 stream. Watches stay on etcd3: its watch
// stream multiplexing and resumption are worth their cost, and they are not per request.
//
// gRPC on the wire: a POST to /etcdserverpb.KV/<Method> with content-type application/grpc, the
// request as one length-prefixed message (1 byte compressed flag, 4 bytes big-endian length), the
// answer likewise, and the outcome in the grpc-status / grpc-message trailers (or in the headers
// when the server answers with trailers only).
import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
} from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { grpcFramed } from './etcd-protobuf.util';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) by number. */
const GRPC_STATUS_NAMES = [
  'OK',
  'Cancelled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_RESOURCE_EXHAUSTED = 8;

/** A failed call: `status` is the gRPC status code, the message carries etcd's own words. */
export class EtcdCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`${GRPC_STATUS_NAMES[status] ?? `status ${status}`}: ${message}`);
    this.name = 'EtcdCallError';
  }
}

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

const DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024 * 1024;
// Large ranges (a list of every pod) stream faster when the peer need not wait for window updates.
const STREAM_WINDOW_BYTES = 16 * 1024 * 1024;
const SESSION_WINDOW_BYTES = 64 * 1024 * 1024;
/**
 * Calls on the wire at once; more wait in order. A burst (an apiserver catching up on thousands of
 * pod status writes) otherwise meets etcd's "too many requests" (5,000 proposals pending) and
 * Node's refusal of new streams once a session holds maxSessionMemory (ENHANCE_YOUR_CALM): 15,000
 * concurrent creates failed by the thousand that way. 1,024 keeps etcd's pipeline full.
 */
const MAX_CALLS_IN_FLIGHT = 1024;
/** In megabytes: what a session may hold (queued frames, unread answers) before refusing streams. */
const SESSION_MEMORY_MB = 256;

/** The single message of a unary answer from its length-prefixed frame(s). */
function unframe(body: Buffer): Buffer {
  if (body.length < 5) throw new EtcdCallError(13, 'etcd answered without a gRPC message');
  if (body[0] !== 0) throw new EtcdCallError(12, 'etcd answered with a compressed message');
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) throw new EtcdCallError(13, 'etcd answered with a truncated gRPC message');
  return body.subarray(5, 5 + length);
}

function grpcMessage(headers: IncomingHttpHeaders): string {
  const raw = headers['grpc-message'];
  const text = Array.isArray(raw) ? raw.join(', ') : (raw ?? '');
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function grpcStatus(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['grpc-status'];
  return raw === undefined ? undefined : Number(raw);
}

export class EtcdKvClient {
  private readonly endpoints: string[];
  private readonly maxResponseBytes: number;
  private session: ClientHttp2Session | undefined;
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

  /** The open session, or a new one to the next endpoint after the last one failed. */
  private connection(): ClientHttp2Session {
    if (this.closed) throw new EtcdCallError(1, 'the etcd client is closed');
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const endpoint = this.endpoints[this.endpointIndex % this.endpoints.length] ?? '';
    const url = new URL(endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EtcdCallError(
        3,
        `etcd endpoint ${endpoint}: give an http:// or https:// URL, e.g. http://127.0.0.1:2379`,
      );
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 2379);
    const session = connect(endpoint, {
      settings: { initialWindowSize: STREAM_WINDOW_BYTES, enablePush: false },
      maxSessionMemory: SESSION_MEMORY_MB,
      // Requests are single small writes answered at once: Nagle's algorithm would only delay them.
      createConnection: () =>
        url.protocol === 'https:'
          ? connectTls({ host, port, servername: host, ALPNProtocols: ['h2'] }).setNoDelay(true)
          : connectTcp({ host, port, noDelay: true }),
    });
    const forget = (): void => {
      if (this.session === session) {
        this.session = undefined;
        // The next call tries the next endpoint: this one went away or never answered.
        this.endpointIndex++;
      }
    };
    session.on('connect', () => session.setLocalWindowSize(SESSION_WINDOW_BYTES));
    // Failures surface on the streams of the calls in flight; the session is simply dropped.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    // An idle session must not keep the process alive (the apiserver exits when its server does).
    session.unref();
    this.session = session;
    return session;
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
    if (this.inFlight >= MAX_CALLS_IN_FLIGHT) {
      const queuedAt = performance.now();
      await this.turn(deadline.timeoutMs);
      const left = deadline.timeoutMs - (performance.now() - queuedAt);
      if (left <= 0) {
        this.release();
        throw new EtcdCallError(GRPC_DEADLINE_EXCEEDED, `no answer within ${deadline.timeoutMs} ms`);
      }
      deadline = { timeoutMs: left };
    } else this.inFlight++;
    try {
      return await this.send(method, framed, deadline);
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
        reject(new EtcdCallError(GRPC_DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`));
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

  private send(method: KvMethod, framed: Buffer, deadline: { timeoutMs: number }): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let stream: ClientHttp2Stream;
      try {
        stream = this.connection().request({
          [constants.HTTP2_HEADER_METHOD]: 'POST',
          [constants.HTTP2_HEADER_PATH]: `/etcdserverpb.KV/${method}`,
          [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
          te: 'trailers',
          'grpc-timeout': `${Math.max(1, Math.ceil(deadline.timeoutMs))}m`,
        });
      } catch (error) {
        if (error instanceof EtcdCallError) {
          reject(error);
          return;
        }
        // The session cannot open streams any more (stream ids used up, or it is closing): let its
        // calls in flight finish, and connect afresh for the next call instead of failing alike.
        this.session?.close();
        this.session = undefined;
        reject(new EtcdCallError(GRPC_UNAVAILABLE, error instanceof Error ? error.message : String(error)));
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      let status: number | undefined;
      let message = '';
      let settled = false;
      const fail = (error: EtcdCallError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
        // Settled already: a stream that never opened may never report its close.
        if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
      };
      const timer = setTimeout(
        () => fail(new EtcdCallError(GRPC_DEADLINE_EXCEEDED, `no answer within ${deadline.timeoutMs} ms`)),
        deadline.timeoutMs,
      );
      stream.on('response', (headers) => {
        const httpStatus = Number(headers[constants.HTTP2_HEADER_STATUS]);
        if (httpStatus !== 200) {
          fail(new EtcdCallError(GRPC_UNAVAILABLE, `etcd answered HTTP ${httpStatus}`));
          return;
        }
        // Trailers-only answer: the status arrives with the headers.
        const early = grpcStatus(headers);
        if (early !== undefined) {
          status = early;
          message = grpcMessage(headers);
        }
      });
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > this.maxResponseBytes) {
          fail(
            new EtcdCallError(
              GRPC_RESOURCE_EXHAUSTED,
              `the answer exceeds ${this.maxResponseBytes} bytes; ask for less (list with a limit)`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      stream.on('trailers', (trailers) => {
        status = grpcStatus(trailers);
        message = grpcMessage(trailers);
      });
      stream.on('error', (error: Error) => fail(new EtcdCallError(GRPC_UNAVAILABLE, error.message)));
      stream.on('close', () => {
        if (status === undefined) {
          fail(
            new EtcdCallError(
              GRPC_UNAVAILABLE,
              `the call ended without a gRPC status (HTTP/2 code ${stream.rstCode ?? 'none'})`,
            ),
          );
          return;
        }
        if (status !== 0) {
          fail(new EtcdCallError(status, message));
          return;
        }
        let answer: Buffer;
        try {
          answer = unframe(chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(chunks));
        } catch (error) {
          fail(error instanceof EtcdCallError ? error : new EtcdCallError(13, String(error)));
          return;
        }
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(answer);
      });
      stream.end(framed);
    });
  }

  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }
}
