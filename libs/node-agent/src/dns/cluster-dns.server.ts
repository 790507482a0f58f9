// The cluster DNS, one per node agent, over UDP and TCP on the same address and port.
//
// Where it listens: on the node's pod-bridge gateway address, port 53, and pods get that address as
// their only nameserver. Every pod already routes to the gateway (it is their default route), so
// each pod asks its own node's agent: no ClusterIP, no service rule and no other node is on the path,
// a query keeps working while service rules are being rewritten or the apiserver is away, and the
// answer comes from the same table that programs this node's kernel rules, so a name never points
// at something the node cannot reach yet. Binding the gateway rather than every address keeps the
// server off the node's LAN (and clear of a host resolver on 127.0.0.53:53).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { connect as connectTcp, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { ClusterNames } from './cluster-names.types';
import { answerQuery } from './cluster-dns.resolver';
import {
  DnsRcode,
  UDP_PAYLOAD_LIMIT,
  encodeResponse,
  parseQuery,
  type DnsQuery,
  type DnsResponse,
} from './dns-message.util';

export interface DnsUpstream {
  host: string;
  port: number;
}

export interface ClusterDnsServerOptions {
  names: ClusterNames;
  /** The address to listen on (the pod bridge's gateway). */
  address: string;
  /** 53 unless a test asks for another; 0 picks a free port (the same for UDP and TCP). */
  port?: number;
  /** The cluster domain (default "cluster.local"). */
  domain?: string;
  /** Default 5 s: short, so a changed endpoint set reaches clients quickly. */
  ttlSeconds?: number;
  /** Where names outside the cluster domain go; without it they are REFUSED. */
  upstream?: DnsUpstream;
  /** How long to wait for the upstream before answering SERVFAIL (default 2 s). */
  upstreamTimeoutMs?: number;
  /** TCP connections at once; more are closed at once (default 256). */
  maxTcpConnections?: number;
  /** A TCP connection idle this long is closed (default 10 s, RFC 7766 §6.2.3). */
  tcpIdleMs?: number;
  log?: (message: string) => void;
}

export interface ClusterDnsServerStats {
  queries: number;
  dropped: number;
  formErrors: number;
  forwarded: number;
}

const DEFAULT_DOMAIN = 'cluster.local';

/** "Cluster.Local." → "cluster.local"; throws with what is expected for anything not a DNS name. */
export function parseClusterDomain(domain: string): string {
  const trimmed = domain.replace(/\.$/, '').toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(trimmed)) {
    throw new Error(`cluster domain "${domain}" is not a DNS name like cluster.local`);
  }
  return trimmed;
}

function errorResponse(parsed: {
  id: number;
  opcode: number;
  recursionDesired: boolean;
  rcode: DnsRcode;
  question?: DnsQuery['question'];
}): DnsResponse {
  return {
    id: parsed.id,
    opcode: parsed.opcode,
    rcode: parsed.rcode,
    authoritative: false,
    recursionDesired: parsed.recursionDesired,
    recursionAvailable: false,
    ...(parsed.question ? { question: parsed.question } : {}),
  };
}

export class ClusterDnsServer {
  readonly stats: ClusterDnsServerStats = { queries: 0, dropped: 0, formErrors: 0, forwarded: 0 };
  private readonly domain: string;
  private readonly ttlSeconds: number;
  private udp?: Socket;
  private tcp?: Server;
  private readonly connections = new Set<TcpSocket>();
  private boundPort?: number;

  constructor(private readonly options: ClusterDnsServerOptions) {
    this.domain = parseClusterDomain(options.domain ?? DEFAULT_DOMAIN);
    this.ttlSeconds = options.ttlSeconds ?? 5;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 0) {
      throw new Error(`ttlSeconds ${String(options.ttlSeconds)} must be a whole number of seconds`);
    }
  }

  get port(): number {
    if (this.boundPort === undefined) throw new Error('the cluster DNS is not listening yet');
    return this.boundPort;
  }

  /** Binds UDP, then TCP on the same port; rejects with the socket error (EADDRNOTAVAIL, EADDRINUSE). */
  async listen(): Promise<number> {
    // With port 0 the free UDP port the kernel picks may be taken for TCP: pick again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.listenOnce();
      } catch (error) {
        const retry =
          (this.options.port ?? 53) === 0 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (!retry || attempt >= 20) throw error;
      }
    }
  }

  private async listenOnce(): Promise<number> {
    const udp = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', (error) => {
        try {
          udp.close();
        } catch {
          // Already closed by the failed bind.
        }
        reject(error);
      });
      udp.bind({ address: this.options.address, port: this.options.port ?? 53, exclusive: true }, () => {
        udp.removeAllListeners('error');
        resolve();
      });
    });
    const port = udp.address().port;
    const tcp = createServer((socket) => this.acceptTcp(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: this.options.address, port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      udp.close();
      throw error;
    }
    udp.on('error', (error) => this.options.log?.(`cluster DNS UDP socket: ${error.message}`));
    udp.on('message', (message, remote) => this.onUdp(message, remote));
    tcp.on('error', (error) => this.options.log?.(`cluster DNS TCP server: ${error.message}`));
    this.udp = udp;
    this.tcp = tcp;
    this.boundPort = port;
    return port;
  }

  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    this.connections.clear();
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    await Promise.all([
      udp ? new Promise<void>((resolve) => udp.close(() => resolve())) : Promise.resolve(),
      tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : Promise.resolve(),
    ]);
  }

  /** The response bytes for one query packet, or undefined when nothing should be sent. */
  async respond(packet: Uint8Array, transport: 'udp' | 'tcp'): Promise<Uint8Array | undefined> {
    this.stats.queries++;
    const maxSize = transport === 'udp' ? UDP_PAYLOAD_LIMIT : 65_535;
    const parsed = parseQuery(packet);
    if (parsed.kind === 'drop') {
      this.stats.dropped++;
      return undefined;
    }
    if (parsed.kind === 'error') {
      this.stats.formErrors++;
      return encodeResponse(errorResponse(parsed), maxSize);
    }
    let decision;
    try {
      decision = answerQuery(parsed.query, {
        names: this.options.names,
        domain: this.domain,
        ttlSeconds: this.ttlSeconds,
        upstream: this.options.upstream !== undefined,
      });
      if (decision.kind === 'answer') return encodeResponse(decision.response, maxSize);
    } catch (error) {
      // A table that throws, or hands out something unencodable, costs one SERVFAIL, not the server.
      this.options.log?.(
        `cluster DNS lookup failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return encodeResponse(errorResponse({ ...parsed.query, rcode: DnsRcode.ServFail }), maxSize);
    }
    this.stats.forwarded++;
    const upstream = this.options.upstream;
    const answer =
      upstream === undefined
        ? undefined
        : await (
            transport === 'udp' ? this.forwardUdp(packet, upstream) : this.forwardTcp(packet, upstream)
          ).catch((error: unknown) => {
            this.options.log?.(
              `cluster DNS upstream ${upstream.host}:${upstream.port}: ${error instanceof Error ? error.message : String(error)}`,
            );
            return undefined;
          });
    return answer ?? encodeResponse(errorResponse({ ...parsed.query, rcode: DnsRcode.ServFail }), maxSize);
  }

  private onUdp(message: Buffer, remote: RemoteInfo): void {
    void this.respond(message, 'udp')
      .catch((error: unknown) => {
        this.options.log?.(`cluster DNS: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      })
      .then((response) => {
        if (response === undefined || this.udp === undefined) return;
        this.udp.send(response, remote.port, remote.address, (error) => {
          if (error) this.options.log?.(`cluster DNS reply to ${remote.address}: ${error.message}`);
        });
      });
  }

  private acceptTcp(socket: TcpSocket): void {
    if (this.connections.size >= (this.options.maxTcpConnections ?? 256)) {
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    socket.setTimeout(this.options.tcpIdleMs ?? 10_000, () => socket.destroy());
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => socket.destroy());
    // Messages come with a two-byte length (RFC 1035 §4.2.2), possibly several per connection and
    // split across reads; answers go back in the order the queries came.
    let pending = Buffer.alloc(0);
    let queue = Promise.resolve();
    let outstanding = 0;
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const message = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        // A client that pipelines faster than we answer (or never reads) is cut off, not buffered.
        if (++outstanding > 64) {
          socket.destroy();
          return;
        }
        queue = queue.then(async () => {
          const response = await this.respond(message, 'tcp').catch(() => undefined);
          outstanding--;
          if (response === undefined || socket.destroyed) return;
          const framed = Buffer.alloc(2 + response.length);
          framed.writeUInt16BE(response.length, 0);
          framed.set(response, 2);
          socket.write(framed);
        });
      }
    });
  }

  private forwardUdp(packet: Uint8Array, upstream: DnsUpstream): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const socket = createSocket('udp4');
      const id = ((packet[0] ?? 0) << 8) | (packet[1] ?? 0);
      const timer = setTimeout(() => {
        socket.close();
        reject(new Error('no answer in time'));
      }, this.options.upstreamTimeoutMs ?? 2000);
      socket.on('error', (error) => {
        clearTimeout(timer);
        socket.close();
        reject(error);
      });
      socket.on('message', (message) => {
        // Only the answer to our own query: a stray packet to the ephemeral port is ignored.
        if (message.length < 12 || message.readUInt16BE(0) !== id) return;
        clearTimeout(timer);
        socket.close();
        resolve(message);
      });
      socket.send(packet, upstream.port, upstream.host);
    });
  }

  private forwardTcp(packet: Uint8Array, upstream: DnsUpstream): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const socket = connectTcp({ host: upstream.host, port: upstream.port });
      let received = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('no answer in time'));
      }, this.options.upstreamTimeoutMs ?? 2000);
      socket.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('connect', () => {
        const framed = Buffer.alloc(2 + packet.length);
        framed.writeUInt16BE(packet.length, 0);
        framed.set(packet, 2);
        socket.write(framed);
      });
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
        clearTimeout(timer);
        socket.destroy();
        resolve(received.subarray(2, 2 + received.readUInt16BE(0)));
      });
    });
  }
}

/**
 * Listens as soon as the address exists: the gateway appears when the pod network creates the
 * bridge, which may be after the agent starts. Other errors (port taken) are thrown at once.
 */
export async function listenWhenAddressExists(
  server: ClusterDnsServer,
  options: { retryMs?: number; signal?: AbortSignal; onWaiting?: () => void } = {},
): Promise<number> {
  let told = false;
  for (;;) {
    try {
      return await server.listen();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw error;
      if (options.signal?.aborted === true) throw new Error('stopped before the address appeared');
      if (!told) options.onWaiting?.();
      told = true;
      await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 500));
    }
  }
}

export interface RunningClusterDns {
  /** Resolves with the port once listening; rejects if listening failed for another reason. */
  readonly listening: Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts the server in the background as the agent needs it: listening as soon as the address
 * exists, and stoppable before that.
 */
export function serveClusterDns(
  options: ClusterDnsServerOptions & { retryMs?: number; onWaiting?: () => void },
): RunningClusterDns {
  const server = new ClusterDnsServer(options);
  const stopper = new AbortController();
  const listening = listenWhenAddressExists(server, {
    signal: stopper.signal,
    ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}),
    ...(options.onWaiting ? { onWaiting: options.onWaiting } : {}),
  });
  // The caller may never await `listening` (it logs through it); an unobserved rejection must not
  // end the process.
  listening.catch(() => undefined);
  return {
    listening,
    stop: async () => {
      stopper.abort();
      await listening.catch(() => undefined);
      await server.close();
    },
  };
}

/** --dns-upstream: "ADDRESS" or "ADDRESS:PORT" (IPv4; port 53 by default). */
export function parseDnsUpstream(text: string): DnsUpstream {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text.trim());
  const host = match?.[1];
  const port = match?.[2] === undefined ? 53 : Number(match[2]);
  if (
    host === undefined ||
    host.split('.').some((part) => Number(part) > 255) ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535
  ) {
    throw new Error(`DNS upstream "${text}" must be an IPv4 address with an optional port, e.g. 10.0.0.2:53`);
  }
  return { host, port };
}
