// The connection against Node's own HTTP/2 server (nghttp2) on loopback: a peer we did not write,
// with its own HPACK encoder, flow control and settings.
import {
  constants,
  createServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
  type Settings,
} from 'node:http2';
import { connect, type AddressInfo } from 'node:net';
import { grpcFramed } from './etcd-protobuf.util';
import {
  EtcdCallError,
  GrpcUnaryConnection,
  requestHeaderBlock,
  timeoutHeader,
  type CallStream,
} from './grpc-unary.connection';
import { FrameReader, FrameType, encodeFrame } from './http2-frame.codec';

type Handler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: Buffer) => void;

interface Peer {
  server: Http2Server;
  sessions: Http2Session[];
  connection: GrpcUnaryConnection;
  retired: () => boolean;
}

const peers: Peer[] = [];

async function peer(handler: Handler, settings: Settings = {}): Promise<Peer> {
  const sessions: Http2Session[] = [];
  const server = createServer({ settings });
  server.on('session', (session) => sessions.push(session));
  server.on('stream', (stream, headers) => {
    // A stream the test resets reports it as an error on the server side too.
    stream.on('error', () => undefined);
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => handler(stream, headers, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let retired = false;
  const connection = new GrpcUnaryConnection({
    socket: connect({ host: '127.0.0.1', port }),
    onRetire: () => {
      retired = true;
    },
  });
  const created = { server, sessions, connection, retired: () => retired };
  peers.push(created);
  return created;
}

afterEach(async () => {
  for (const { server, sessions, connection } of peers.splice(0)) {
    connection.close();
    sessions.forEach((session) => session.destroy());
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Answers as a gRPC server does: headers, the message, grpc-status in trailers. */
function answer(stream: ServerHttp2Stream, message: Buffer): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(grpcFramed(message));
}

const echo: Handler = (stream, _headers, body) => answer(stream, body.subarray(5));

function call(
  connection: GrpcUnaryConnection,
  request: Buffer,
  path = '/etcdserverpb.KV/Range',
): Promise<Buffer> {
  return started(connection, request, path).done;
}

function started(
  connection: GrpcUnaryConnection,
  request: Buffer,
  path = '/etcdserverpb.KV/Range',
): { done: Promise<Buffer>; stream: CallStream } {
  let stream: CallStream | undefined;
  const done = new Promise<Buffer>((resolve, reject) => {
    stream = connection.start({
      headerBlock: Buffer.concat([
        requestHeaderBlock({ scheme: 'http', authority: '127.0.0.1', path }),
        timeoutHeader(5000),
      ]),
      body: grpcFramed(request),
      maxResponseBytes: 64 * 1024 * 1024,
      settle: (error, message) => (error ? reject(error) : resolve(message ?? Buffer.alloc(0))),
    });
  });
  if (!stream) throw new Error('start returned no stream');
  return { done, stream };
}

async function failure(promise: Promise<unknown>): Promise<EtcdCallError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EtcdCallError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('HTTP/2 frame reader', () => {
  it('cuts frames fed one octet at a time and frames sharing one read', () => {
    const frames = Buffer.concat([
      encodeFrame(FrameType.Ping, 0, 0, Buffer.alloc(8, 7)),
      encodeFrame(FrameType.Data, 1, 3, Buffer.from('hello')),
      encodeFrame(FrameType.Settings, 1, 0),
    ]);
    const seen: string[] = [];
    const record = (type: number, flags: number, streamId: number, payload: Buffer): void => {
      seen.push(`${type}/${flags}/${streamId}/${payload.toString('hex')}`);
    };
    const reader = new FrameReader();
    for (const octet of frames) reader.push(Buffer.from([octet]), record);
    const whole: string[] = [...seen];
    seen.length = 0;
    new FrameReader().push(frames, record);
    expect(whole).toEqual(['6/0/0/0707070707070707', '0/1/3/68656c6c6f', '4/1/0/']);
    expect(seen).toEqual(whole);
  });

  it('refuses a frame over the size we allow', () => {
    const frame = encodeFrame(FrameType.Data, 0, 1, Buffer.alloc(20_000));
    expect(() => new FrameReader().push(frame, () => undefined)).toThrow('exceeds the 16384 allowed');
  });
});

describe('gRPC unary calls over our HTTP/2 connection', () => {
  it('sends the request headers gRPC needs and returns the answer message', async () => {
    let seen: IncomingHttpHeaders = {};
    const { connection } = await peer((stream, headers, body) => {
      seen = headers;
      echo(stream, headers, body);
    });
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        call(connection, Buffer.from(`request ${index}`), '/etcdserverpb.KV/Txn'),
      ),
    );
    expect(answers.map((answerBuffer) => answerBuffer.toString())).toEqual(
      Array.from({ length: 50 }, (_, index) => `request ${index}`),
    );
    expect(seen).toMatchObject({
      ':method': 'POST',
      ':scheme': 'http',
      ':path': '/etcdserverpb.KV/Txn',
      ':authority': '127.0.0.1',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '5000m',
    });
  });

  it('fails with the status and decoded message of a trailers-only answer', async () => {
    const { connection } = await peer((stream) => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '11',
          'grpc-message': 'revision%20compacted',
        },
        { endStream: true },
      );
    });
    const error = await failure(call(connection, Buffer.from('x')));
    expect(error.status).toBe(11);
    expect(error.message).toBe('OutOfRange: revision compacted');
  });

  it('fails a call answered with another HTTP status, or ended without a gRPC status', async () => {
    const { connection } = await peer((stream, headers) => {
      if (headers[':path'] === '/missing') {
        stream.respond({ ':status': 404 }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.end(grpcFramed(Buffer.from('no trailers')));
    });
    expect((await failure(call(connection, Buffer.from('x'), '/missing'))).message).toBe(
      'Unavailable: etcd answered HTTP 404',
    );
    expect((await failure(call(connection, Buffer.from('x')))).message).toBe(
      'Unavailable: the call ended without a gRPC status',
    );
  });

  it('sends a request bigger than the peer windows and frame size, and reads an answer bigger than its own', async () => {
    const big = Buffer.alloc(20 * 1024 * 1024, 'a');
    let received = 0;
    // A 1,000-octet stream window and default 64 KiB connection window: the request goes out only
    // as the peer's WINDOW_UPDATEs allow, in frames of at most 16 KiB.
    const { connection } = await peer(
      (stream, _headers, body) => {
        received = body.length;
        // Over half our 16 MiB stream window: etcd would stall without our WINDOW_UPDATEs.
        answer(stream, big);
      },
      { initialWindowSize: 1000 },
    );
    const request = Buffer.alloc(300_000, 'r');
    const [first, second] = await Promise.all([call(connection, request), call(connection, request)]);
    expect(received).toBe(300_005);
    expect(first?.equals(big)).toBe(true);
    expect(second?.length).toBe(big.length);
  });

  it('keeps to the peer MAX_CONCURRENT_STREAMS and opens waiting calls as streams end', async () => {
    let open = 0;
    let most = 0;
    const { connection } = await peer(
      (stream, headers, body) => {
        open++;
        most = Math.max(most, open);
        setTimeout(() => {
          open--;
          echo(stream, headers, body);
        }, 5);
      },
      { maxConcurrentStreams: 2 },
    );
    // The peer's SETTINGS arrive with its first read; let them land before the burst.
    await call(connection, Buffer.from('warm-up'));
    open = 0;
    most = 0;
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, index) => call(connection, Buffer.from(`${index}`))),
    );
    expect(answers.map(String)).toEqual(Array.from({ length: 12 }, (_, index) => `${index}`));
    expect(most).toBe(2);
  });

  it('fails a reset call with a retryable Unavailable and keeps the connection for others', async () => {
    const { connection } = await peer((stream, headers, body) => {
      if (body.subarray(5).toString() === 'reset me') stream.close(constants.NGHTTP2_REFUSED_STREAM);
      else echo(stream, headers, body);
    });
    const error = await failure(call(connection, Buffer.from('reset me')));
    expect(error.message).toBe('Unavailable: etcd reset the call (HTTP/2 code 7)');
    expect((await call(connection, Buffer.from('still here'))).toString()).toBe('still here');
    expect(connection.isAccepting()).toBe(true);
  });

  it('on GOAWAY fails the calls the peer did not take, finishes the others, and retires', async () => {
    const held: Array<() => void> = [];
    const server = await peer((stream, headers, body) => {
      held.push(() => echo(stream, headers, body));
    });
    const first = call(server.connection, Buffer.from('first'));
    await waitFor(() => held.length === 1);
    const session = server.sessions[0];
    if (!session) throw new Error('no server session');
    // Only stream 1 was processed: stream 3 must fail, stream 1 still gets its answer.
    const second = call(server.connection, Buffer.from('second'));
    await waitFor(() => held.length === 2);
    session.goaway(constants.NGHTTP2_NO_ERROR, 1);
    const error = await failure(second);
    expect(error.message).toContain('Unavailable: etcd is closing the connection (GOAWAY, HTTP/2 code 0');
    expect(server.retired()).toBe(true);
    expect(server.connection.isAccepting()).toBe(false);
    held[0]?.();
    expect((await first).toString()).toBe('first');
    expect((await failure(call(server.connection, Buffer.from('late')))).message).toBe(
      'Unavailable: the etcd connection is closing',
    );
  });

  it('answers the peer PING', async () => {
    const { connection, sessions } = await peer(echo);
    await call(connection, Buffer.from('connect'));
    const session = sessions[0];
    if (!session) throw new Error('no server session');
    const acknowledged = await new Promise<Buffer>((resolve, reject) => {
      session.ping(Buffer.from('12345678'), (error, _duration, payload) =>
        error ? reject(error) : resolve(payload),
      );
    });
    expect(acknowledged.toString()).toBe('12345678');
  });

  it('tells the peer a cancelled call is over (RST_STREAM CANCEL)', async () => {
    let resetCode = -1;
    const { connection } = await peer((stream) => {
      stream.on('close', () => {
        resetCode = stream.rstCode;
      });
    });
    const { done, stream } = started(connection, Buffer.from('slow'));
    void done.catch(() => undefined);
    await waitFor(() => connection.isAccepting());
    await new Promise((resolve) => setTimeout(resolve, 20));
    connection.cancel(stream);
    await waitFor(() => resetCode !== -1);
    expect(resetCode).toBe(constants.NGHTTP2_CANCEL);
  });

  it('fails every call in flight with Unavailable when the connection drops', async () => {
    const server = await peer(() => undefined);
    const pending = Promise.all([
      call(server.connection, Buffer.from('a')),
      call(server.connection, Buffer.from('b')),
    ]);
    await waitFor(() => server.sessions.length === 1);
    server.sessions[0]?.destroy();
    // nghttp2 resets the open streams as it goes, or the socket closes first.
    expect((await failure(pending)).message).toMatch(
      /^Unavailable: etcd (closed the connection|reset the call)/,
    );
    expect(server.retired()).toBe(true);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let tries = 0; !condition(); tries++) {
    if (tries > 500) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
