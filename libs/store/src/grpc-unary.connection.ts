// One HTTP/2 connection carrying gRPC unary calls, written for the etcd client's per-call cost:
// node:http2 spent ~40 µs of CPU per call (a stream object, an AsyncResource, header objects,
// several event-loop hops). Here a call is one pending record; the frames of every call made in
// one event-loop turn leave in one socket write; answers are parsed straight from the read buffers.
//
// What it keeps of HTTP/2 (RFC 9113): the preface and SETTINGS (acknowledged both ways), the
// peer's MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE and MAX_FRAME_SIZE, flow control both ways
// (our windows are large and topped up at half), PING answered, RST_STREAM and GOAWAY failing the
// calls they end with a retryable Unavailable, HPACK with the peer's dynamic table. Requests carry
// literal headers only (hpack.codec).
import type { Duplex } from 'node:stream';
import { HpackDecoder, encodeLiteralHeaders, type HeaderField } from './hpack.codec';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  ErrorCode,
  FRAME_HEADER_BYTES,
  FrameFlag,
  FrameReader,
  FrameType,
  Http2ConnectionError,
  MAX_WINDOW,
  Setting,
  decodeSettings,
  encodeFrame,
  encodeGoaway,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  unpadded,
  writeFrameHeader,
} from './http2-frame.codec';

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

export const GrpcStatus = {
  Ok: 0,
  Cancelled: 1,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  ResourceExhausted: 8,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
} as const;

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

/** What the connection needs of a call, and what it fills in while the answer arrives. */
export interface UnaryCall {
  /** The complete HPACK block of the request's headers (see requestHeaderBlock). */
  readonly headerBlock: Buffer;
  /** The request's gRPC frame. */
  readonly body: Buffer;
  readonly maxResponseBytes: number;
  /** Called once: the answer's gRPC message, or why there is none. */
  readonly settle: (error: EtcdCallError | undefined, message: Buffer | undefined) => void;
}

/** A call's state on this connection (start's handle for cancel). */
export class CallStream {
  id = 0;
  sendOffset = 0;
  sendWindow = 0;
  /** Octets received since our last WINDOW_UPDATE for this stream. */
  unacknowledged = 0;
  received = 0;
  chunks: Buffer[] = [];
  httpStatus = 0;
  grpcStatus = -1;
  grpcMessage = '';
  blocked = false;

  constructor(readonly call: UnaryCall) {}
}

/**
 * Our receive windows. A list of every pod streams tens of MiB; with small windows etcd would wait
 * for a WINDOW_UPDATE every 64 KiB. Topped up once half is used, so a unary answer needs none.
 */
const STREAM_WINDOW = 16 * 1024 * 1024;
const CONNECTION_WINDOW = 64 * 1024 * 1024;
/** Stream ids are 31 bits and never reused: a connection that has used them up gives way. */
const LAST_STREAM_ID = MAX_WINDOW;

export interface GrpcUnaryConnectionOptions {
  /** Connected or connecting; the connection owns it from here. */
  socket: Duplex & { unref?: () => unknown };
  /** Called once when the connection can take no more calls (closed, failed, or told to go away). */
  onRetire: () => void;
}

function percentDecoded(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A request's header block: pseudo-headers first, every field a literal (RFC 9113 8.3.1). */
export function requestHeaderBlock(fields: { scheme: string; authority: string; path: string }): Buffer {
  const headers: HeaderField[] = [
    [':method', 'POST'],
    [':scheme', fields.scheme],
    [':path', fields.path],
    [':authority', fields.authority],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ];
  return encodeLiteralHeaders(headers);
}

/** The grpc-timeout field to append to a request's header block (gRPC over HTTP/2: "TimeoutValue TimeoutUnit"). */
export function timeoutHeader(timeoutMs: number): Buffer {
  return encodeLiteralHeaders([['grpc-timeout', `${Math.max(1, Math.ceil(timeoutMs))}m`]]);
}

export class GrpcUnaryConnection {
  private readonly socket: Duplex & { unref?: () => unknown };
  private readonly onRetire: () => void;
  private readonly reader = new FrameReader();
  private readonly decoder = new HpackDecoder();
  private readonly streams = new Map<number, CallStream>();
  /** Calls waiting for the peer's MAX_CONCURRENT_STREAMS to allow another stream. */
  private readonly unopened: CallStream[] = [];
  /** Streams with request octets left that a window holds back. */
  private blocked: CallStream[] = [];
  private nextStreamId = 1;
  private output: Buffer[] = [];
  private flushScheduled = false;

  private peerMaxConcurrentStreams = Number.POSITIVE_INFINITY;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private sendWindow = DEFAULT_WINDOW;
  private receivedUnacknowledged = 0;

  /** A header block arriving in HEADERS + CONTINUATION frames. */
  private headerStreamId = 0;
  private headerFlags = 0;
  private headerFragments: Buffer[] = [];

  private accepting = true;
  private closed = false;

  constructor(options: GrpcUnaryConnectionOptions) {
    this.socket = options.socket;
    this.onRetire = options.onRetire;
    this.queue(CLIENT_PREFACE);
    this.queue(
      encodeSettings([
        [Setting.EnablePush, 0],
        [Setting.InitialWindowSize, STREAM_WINDOW],
      ]),
    );
    this.queue(encodeWindowUpdate(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error: Error) => this.destroy(`etcd connection failed: ${error.message}`));
    this.socket.on('close', () => this.destroy('etcd closed the connection'));
    // An idle connection must not keep the process alive; calls in flight hold their own timers.
    this.socket.unref?.();
  }

  /** False once the connection takes no new calls (closed, going away, stream ids used up). */
  isAccepting(): boolean {
    return this.accepting;
  }

  /** Starts a call; its outcome reaches call.settle. */
  start(call: UnaryCall): CallStream {
    const stream = new CallStream(call);
    if (!this.accepting) {
      call.settle(new EtcdCallError(GrpcStatus.Unavailable, 'the etcd connection is closing'), undefined);
      return stream;
    }
    if (this.streams.size >= this.peerMaxConcurrentStreams) this.unopened.push(stream);
    else this.open(stream);
    return stream;
  }

  /** Gives up on a call (its deadline passed): the peer is told to stop. */
  cancel(stream: CallStream): void {
    if (stream.id === 0) {
      const index = this.unopened.indexOf(stream);
      if (index >= 0) this.unopened.splice(index, 1);
      return;
    }
    if (this.streams.get(stream.id) !== stream) return;
    this.forget(stream);
    if (!this.closed) this.queue(encodeRstStream(stream.id, ErrorCode.Cancel));
  }

  /** Ends the connection; calls in flight fail with Unavailable. */
  close(reason = 'the etcd client is closed'): void {
    if (!this.closed) {
      this.queue(encodeGoaway(0, ErrorCode.NoError));
      this.flush();
    }
    this.destroy(reason);
  }

  private open(stream: CallStream): void {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    if (this.nextStreamId > LAST_STREAM_ID) this.retire();
    stream.id = id;
    stream.sendWindow = this.peerInitialWindow;
    this.streams.set(id, stream);
    const block = stream.call.headerBlock;
    const endStream = stream.call.body.length === 0 ? FrameFlag.EndStream : 0;
    this.queue(encodeFrame(FrameType.Headers, FrameFlag.EndHeaders | endStream, id, block));
    this.sendData(stream);
  }

  /** Sends as much of the request as the windows allow; the rest waits for WINDOW_UPDATE. */
  private sendData(stream: CallStream): void {
    const body = stream.call.body;
    while (stream.sendOffset < body.length) {
      const length = Math.min(
        body.length - stream.sendOffset,
        this.sendWindow,
        stream.sendWindow,
        this.peerMaxFrameSize,
      );
      if (length <= 0) {
        if (!stream.blocked) {
          stream.blocked = true;
          this.blocked.push(stream);
        }
        return;
      }
      const last = stream.sendOffset + length === body.length;
      const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
      writeFrameHeader(header, 0, {
        length,
        type: FrameType.Data,
        flags: last ? FrameFlag.EndStream : 0,
        streamId: stream.id,
      });
      this.queue(header);
      this.queue(body.subarray(stream.sendOffset, stream.sendOffset + length));
      stream.sendOffset += length;
      this.sendWindow -= length;
      stream.sendWindow -= length;
    }
  }

  /** A window opened: blocked streams go on in the order they stopped. */
  private resumeBlocked(): void {
    const waiting = this.blocked;
    this.blocked = [];
    for (const stream of waiting) {
      stream.blocked = false;
      if (this.streams.get(stream.id) === stream) this.sendData(stream);
    }
  }

  private queue(frame: Buffer): void {
    this.output.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Every call made in this event-loop turn leaves in the same write.
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.output.length === 0 || this.closed) return;
    const frames =
      this.output.length === 1 ? (this.output[0] ?? Buffer.alloc(0)) : Buffer.concat(this.output);
    this.output = [];
    this.socket.write(frames);
  }

  private receive(chunk: Buffer): void {
    try {
      this.reader.push(chunk, (type, flags, streamId, payload) => this.frame(type, flags, streamId, payload));
    } catch (error) {
      const code = error instanceof Http2ConnectionError ? error.code : ErrorCode.ProtocolError;
      const message = error instanceof Error ? error.message : String(error);
      this.queue(encodeGoaway(this.nextStreamId - 2, code));
      this.flush();
      this.destroy(`etcd's HTTP/2 broke the protocol: ${message}`);
    }
  }

  private frame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.headerStreamId !== 0 && type !== FrameType.Continuation) {
      throw new Http2ConnectionError(ErrorCode.ProtocolError, 'a header block was interrupted');
    }
    switch (type) {
      case FrameType.Data:
        this.data(flags, streamId, payload);
        return;
      case FrameType.Headers: {
        if (streamId === 0) throw new Http2ConnectionError(ErrorCode.ProtocolError, 'HEADERS on stream 0');
        const fragment = unpadded(payload, flags, flags & FrameFlag.Priority ? 5 : 0);
        this.headerFlags = flags;
        if (flags & FrameFlag.EndHeaders) this.headers(streamId, flags, fragment);
        else {
          this.headerStreamId = streamId;
          this.headerFragments = [fragment];
        }
        return;
      }
      case FrameType.Continuation: {
        if (streamId === 0 || streamId !== this.headerStreamId) {
          throw new Http2ConnectionError(ErrorCode.ProtocolError, 'CONTINUATION without its HEADERS');
        }
        this.headerFragments.push(payload);
        if (flags & FrameFlag.EndHeaders) {
          const block = Buffer.concat(this.headerFragments);
          this.headerStreamId = 0;
          this.headerFragments = [];
          this.headers(streamId, this.headerFlags, block);
        }
        return;
      }
      case FrameType.RstStream: {
        const stream = this.streams.get(streamId);
        if (stream) {
          const code = payload.length >= 4 ? payload.readUInt32BE(0) : ErrorCode.ProtocolError;
          this.fail(
            stream,
            new EtcdCallError(GrpcStatus.Unavailable, `etcd reset the call (HTTP/2 code ${code})`),
          );
        }
        return;
      }
      case FrameType.Settings:
        if (streamId !== 0) throw new Http2ConnectionError(ErrorCode.ProtocolError, 'SETTINGS on a stream');
        if ((flags & FrameFlag.Ack) === 0) this.settings(payload);
        return;
      case FrameType.PushPromise:
        throw new Http2ConnectionError(ErrorCode.ProtocolError, 'PUSH_PROMISE although push is disabled');
      case FrameType.Ping:
        if (payload.length !== 8)
          throw new Http2ConnectionError(ErrorCode.FrameSizeError, 'PING of the wrong size');
        if ((flags & FrameFlag.Ack) === 0) this.queue(encodeFrame(FrameType.Ping, FrameFlag.Ack, 0, payload));
        return;
      case FrameType.Goaway:
        this.goaway(payload);
        return;
      case FrameType.WindowUpdate:
        this.windowUpdate(streamId, payload);
        return;
      default:
        // PRIORITY and unknown frame types carry nothing a client of unary calls needs.
        return;
    }
  }

  private data(flags: number, streamId: number, payload: Buffer): void {
    // Every DATA octet, padding included, counts against the connection's window, even for a
    // stream we have given up on.
    this.receivedUnacknowledged += payload.length;
    if (this.receivedUnacknowledged >= CONNECTION_WINDOW / 2) {
      this.queue(encodeWindowUpdate(0, this.receivedUnacknowledged));
      this.receivedUnacknowledged = 0;
    }
    const stream = this.streams.get(streamId);
    if (!stream) return;
    const data = unpadded(payload, flags);
    stream.received += data.length;
    if (stream.received > stream.call.maxResponseBytes) {
      this.fail(
        stream,
        new EtcdCallError(
          GrpcStatus.ResourceExhausted,
          `the answer exceeds ${stream.call.maxResponseBytes} bytes; ask for less (list with a limit)`,
        ),
      );
      this.queue(encodeRstStream(streamId, ErrorCode.Cancel));
      return;
    }
    if (data.length > 0) stream.chunks.push(data);
    if (flags & FrameFlag.EndStream) {
      this.finish(stream);
      return;
    }
    stream.unacknowledged += payload.length;
    if (stream.unacknowledged >= STREAM_WINDOW / 2) {
      this.queue(encodeWindowUpdate(streamId, stream.unacknowledged));
      stream.unacknowledged = 0;
    }
  }

  private headers(streamId: number, flags: number, block: Buffer): void {
    // Decoded even for a stream we gave up on: the dynamic table must follow every block.
    let fields: HeaderField[];
    try {
      fields = this.decoder.decode(block);
    } catch (error) {
      throw new Http2ConnectionError(
        ErrorCode.CompressionError,
        error instanceof Error ? error.message : String(error),
      );
    }
    const stream = this.streams.get(streamId);
    if (!stream) return;
    for (const [name, value] of fields) {
      if (name === ':status') stream.httpStatus = Number(value);
      else if (name === 'grpc-status') stream.grpcStatus = Number(value);
      else if (name === 'grpc-message') stream.grpcMessage = percentDecoded(value);
    }
    if (stream.httpStatus !== 0 && stream.httpStatus !== 200) {
      this.fail(stream, new EtcdCallError(GrpcStatus.Unavailable, `etcd answered HTTP ${stream.httpStatus}`));
      if ((flags & FrameFlag.EndStream) === 0) this.queue(encodeRstStream(streamId, ErrorCode.Cancel));
      return;
    }
    if (flags & FrameFlag.EndStream) this.finish(stream);
  }

  private settings(payload: Buffer): void {
    if (payload.length % 6 !== 0)
      throw new Http2ConnectionError(ErrorCode.FrameSizeError, 'SETTINGS of a wrong size');
    for (const [id, value] of decodeSettings(payload)) {
      if (id === Setting.MaxConcurrentStreams) this.peerMaxConcurrentStreams = value;
      else if (id === Setting.InitialWindowSize) {
        if (value > MAX_WINDOW)
          throw new Http2ConnectionError(ErrorCode.FlowControlError, 'initial window too large');
        // RFC 9113 6.9.2: the change applies to every open stream's window, even below zero.
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
      } else if (id === Setting.MaxFrameSize) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) {
          throw new Http2ConnectionError(ErrorCode.ProtocolError, `MAX_FRAME_SIZE ${value} out of range`);
        }
        this.peerMaxFrameSize = value;
      }
      // HEADER_TABLE_SIZE bounds an encoder's dynamic table: we never add to the peer's.
    }
    this.queue(encodeFrame(FrameType.Settings, FrameFlag.Ack, 0));
    this.resumeBlocked();
    this.openWaiting();
  }

  private windowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4)
      throw new Http2ConnectionError(ErrorCode.FrameSizeError, 'WINDOW_UPDATE of the wrong size');
    const increment = payload.readUInt32BE(0) & MAX_WINDOW;
    if (streamId === 0) {
      if (increment === 0) throw new Http2ConnectionError(ErrorCode.ProtocolError, 'WINDOW_UPDATE of 0');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW)
        throw new Http2ConnectionError(ErrorCode.FlowControlError, 'window overflow');
    } else {
      const stream = this.streams.get(streamId);
      if (!stream) return;
      if (increment === 0 || stream.sendWindow + increment > MAX_WINDOW) {
        this.fail(stream, new EtcdCallError(GrpcStatus.Unavailable, 'etcd sent a bad WINDOW_UPDATE'));
        this.queue(
          encodeRstStream(streamId, increment === 0 ? ErrorCode.ProtocolError : ErrorCode.FlowControlError),
        );
        return;
      }
      stream.sendWindow += increment;
    }
    this.resumeBlocked();
  }

  private goaway(payload: Buffer): void {
    if (payload.length < 8) throw new Http2ConnectionError(ErrorCode.FrameSizeError, 'GOAWAY too short');
    const lastStreamId = payload.readUInt32BE(0) & MAX_WINDOW;
    const code = payload.readUInt32BE(4);
    const debug = payload.subarray(8).toString('utf8');
    this.retire();
    const reason = `etcd is closing the connection (GOAWAY, HTTP/2 code ${code}${debug ? `: ${debug}` : ''})`;
    // Calls above lastStreamId were not processed and calls not opened never will be here.
    for (const stream of [...this.streams.values()]) {
      if (stream.id > lastStreamId) this.fail(stream, new EtcdCallError(GrpcStatus.Unavailable, reason));
    }
    this.failUnopened(reason);
    if (this.streams.size === 0) this.destroy(reason);
  }

  /** The answer is complete: the call succeeds if its status says so and a message came. */
  private finish(stream: CallStream): void {
    if (stream.grpcStatus < 0) {
      this.fail(stream, new EtcdCallError(GrpcStatus.Unavailable, 'the call ended without a gRPC status'));
      return;
    }
    if (stream.grpcStatus !== GrpcStatus.Ok) {
      this.fail(stream, new EtcdCallError(stream.grpcStatus, stream.grpcMessage));
      return;
    }
    let message: Buffer;
    try {
      message = unframe(
        stream.chunks.length === 1 ? (stream.chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(stream.chunks),
      );
    } catch (error) {
      this.fail(
        stream,
        error instanceof EtcdCallError ? error : new EtcdCallError(GrpcStatus.Internal, String(error)),
      );
      return;
    }
    this.forget(stream);
    stream.call.settle(undefined, message);
  }

  private fail(stream: CallStream, error: EtcdCallError): void {
    this.forget(stream);
    stream.call.settle(error, undefined);
  }

  /** The stream is over for us; a slot frees for a waiting call. */
  private forget(stream: CallStream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    if (stream.blocked) this.blocked = this.blocked.filter((other) => other !== stream);
    this.openWaiting();
    if (!this.accepting && this.streams.size === 0 && this.unopened.length === 0) {
      this.flush();
      this.destroy('the etcd connection was retired');
    }
  }

  private openWaiting(): void {
    while (this.accepting && this.unopened.length > 0 && this.streams.size < this.peerMaxConcurrentStreams) {
      const stream = this.unopened.shift();
      if (stream) this.open(stream);
    }
  }

  private failUnopened(reason: string): void {
    const waiting = this.unopened.splice(0);
    for (const stream of waiting)
      stream.call.settle(new EtcdCallError(GrpcStatus.Unavailable, reason), undefined);
  }

  /** Takes no new calls; those in flight finish. */
  private retire(): void {
    if (!this.accepting) return;
    this.accepting = false;
    this.onRetire();
  }

  private destroy(reason: string): void {
    if (this.closed) return;
    this.retire();
    this.closed = true;
    this.output = [];
    this.socket.destroy();
    const streams = [...this.streams.values()];
    this.streams.clear();
    this.blocked = [];
    for (const stream of streams)
      stream.call.settle(new EtcdCallError(GrpcStatus.Unavailable, reason), undefined);
    this.failUnopened(reason);
  }
}

/** The single message of a unary answer from its length-prefixed frame. */
function unframe(body: Buffer): Buffer {
  if (body.length < 5) throw new EtcdCallError(GrpcStatus.Internal, 'etcd answered without a gRPC message');
  if (body[0] !== 0)
    throw new EtcdCallError(GrpcStatus.Unimplemented, 'etcd answered with a compressed message');
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) {
    throw new EtcdCallError(GrpcStatus.Internal, 'etcd answered with a truncated gRPC message');
  }
  return body.subarray(5, 5 + length);
}
