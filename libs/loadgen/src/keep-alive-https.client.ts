// An HTTPS/1.1 client for benchmarks that measure a server, not the client: a pool of kept-alive TLS
// connections, one request in flight on each, every request written as one buffer and every response
// read in full (Content-Length, chunked, or close-delimited). node:https builds a ClientRequest and
// an IncomingMessage stream per request, ~0.25 ms of CPU per create in bench/apiserver, which at
// concurrency 1 sits on the measured path and on two cores competes with the server under test.
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { HttpResponseParser, type HttpResponse } from './http-response.parser';

export interface KeepAliveHttpsClientOptions {
  /** https://host:port */
  url: string;
  /** The CA that signed the server's certificate (verified, with the host name). */
  ca: Buffer;
  /** Connections open at once; requests beyond them wait in order (default 64). */
  maxConnections?: number;
}

export interface HttpsRequest {
  method: string;
  /** Path and query, e.g. /api/v1/namespaces. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

interface Waiter {
  request: HttpsRequest;
  resolve: (response: HttpResponse) => void;
  reject: (error: Error) => void;
}

class Connection {
  private readonly parser = new HttpResponseParser();
  private current: Waiter | undefined;
  closed = false;

  constructor(
    private readonly socket: TLSSocket,
    private readonly onIdle: (connection: Connection) => void,
    private readonly onGone: (connection: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.closedByPeer());
  }

  /** A response delimited by the connection's end is complete now; any other is cut short. */
  private closedByPeer(): void {
    let last: HttpResponse | undefined;
    try {
      last = this.current ? this.parser.end() : undefined;
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (last) this.complete(last);
    else this.fail(new Error('the server closed the connection'));
  }

  send(waiter: Waiter, head: string): void {
    this.current = waiter;
    const body = waiter.request.body;
    if (body === undefined || body.length === 0) this.socket.write(head);
    else if (typeof body === 'string') this.socket.write(head + body);
    else this.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  }

  private receive(chunk: Buffer): void {
    let responses: HttpResponse[];
    try {
      responses = this.parser.push(chunk, this.current?.request.method === 'HEAD');
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    for (const response of responses) this.complete(response);
  }

  private complete(response: HttpResponse): void {
    const waiter = this.current;
    if (!waiter) {
      this.fail(new Error(`an unrequested response (${response.status})`));
      return;
    }
    this.current = undefined;
    if (response.closes) this.close();
    waiter.resolve(response);
    if (!this.closed) this.onIdle(this);
  }

  private fail(error: Error): void {
    const waiter = this.current;
    this.current = undefined;
    this.close();
    waiter?.reject(error);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.onGone(this);
  }
}

export class KeepAliveHttpsClient {
  private readonly host: string;
  private readonly port: number;
  private readonly hostHeader: string;
  private readonly maxConnections: number;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: Waiter[] = [];
  private opening = 0;

  constructor(private readonly options: KeepAliveHttpsClientOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:') throw new Error(`${options.url}: only https URLs`);
    this.host = url.hostname;
    this.port = Number(url.port || 443);
    this.hostHeader = url.host;
    this.maxConnections = options.maxConnections ?? 64;
  }

  request(request: HttpsRequest): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { request, resolve, reject };
      const connection = this.idle.pop();
      if (connection) connection.send(waiter, this.headOf(request));
      else {
        this.queue.push(waiter);
        if (this.all.size + this.opening < this.maxConnections) this.open();
      }
    });
  }

  /** Closes every connection; requests in flight fail. */
  close(): void {
    for (const connection of [...this.all]) connection.close();
    for (const waiter of this.queue.splice(0)) waiter.reject(new Error('the client was closed'));
  }

  private headOf(request: HttpsRequest): string {
    let head = `${request.method} ${request.path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n`;
    for (const [name, value] of Object.entries(request.headers ?? {})) head += `${name}: ${value}\r\n`;
    const body = request.body;
    const length = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    if (
      body !== undefined ||
      request.method === 'POST' ||
      request.method === 'PUT' ||
      request.method === 'PATCH'
    ) {
      head += `Content-Length: ${length}\r\n`;
    }
    return `${head}\r\n`;
  }

  private open(): void {
    this.opening++;
    const socket = connect({
      host: this.host,
      port: this.port,
      ca: this.options.ca,
      // SNI carries host names only (RFC 6066); an address is still checked against the certificate.
      ...(isIP(this.host) === 0 ? { servername: this.host } : {}),
    });
    const failed = (error: Error): void => {
      this.opening--;
      // Without a connection nobody can serve the oldest request: it fails rather than waits forever.
      this.queue.shift()?.reject(error);
    };
    socket.once('error', failed);
    socket.once('secureConnect', () => {
      socket.off('error', failed);
      this.opening--;
      const connection = new Connection(
        socket,
        (idle) => this.served(idle),
        (gone) => {
          this.all.delete(gone);
          const index = this.idle.indexOf(gone);
          if (index >= 0) this.idle.splice(index, 1);
          if (this.queue.length > 0 && this.all.size + this.opening < this.maxConnections) this.open();
        },
      );
      this.all.add(connection);
      this.served(connection);
    });
  }

  /** A connection is free: it takes the oldest waiting request, or waits for the next one. */
  private served(connection: Connection): void {
    const waiter = this.queue.shift();
    if (waiter) connection.send(waiter, this.headOf(waiter.request));
    else this.idle.push(connection);
  }
}
