// TCP connections a server accepted, from the moment they are accepted. Node's HTTPS and HTTP/2
// servers (and so Fastify's forceCloseConnections and grpc-js's forceShutdown) only know a
// connection once its TLS handshake is done. One accepted just before close() — an agent
// reconnecting after its stream was closed for the shutdown — stayed open until its peer gave up or
// TLS's 120 s handshake timeout ran out, holding close() (Node's server waits for every connection)
// and the process open.
import type { Server, Socket } from 'node:net';
import type { TLSSocket, Server as TlsServer } from 'node:tls';

function endpoint(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
}

export class AcceptedConnections {
  /** By remote endpoint: a TLS server's handshake result is a new socket over the accepted one. */
  private readonly sockets = new Map<string, Socket>();
  private refusing = false;

  /** Every connection of `server` until it closes; call it before the server listens. */
  track(server: Server): void {
    server.on('connection', (socket: Socket) => this.add(socket));
  }

  /**
   * A TLS server's connections until their handshake is done; from then on the HTTP layer owns
   * them (and closes them).
   */
  trackHandshakes(server: TlsServer): void {
    this.track(server);
    server.on('secureConnection', (socket: TLSSocket) => this.sockets.delete(endpoint(socket)));
  }

  add(socket: Socket): void {
    if (this.refusing) {
      socket.destroy();
      return;
    }
    if (socket.destroyed) return;
    const key = endpoint(socket);
    this.sockets.set(key, socket);
    socket.once('close', () => {
      if (this.sockets.get(key) === socket) this.sockets.delete(key);
    });
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Ends every connection tracked now and every one accepted from now on. */
  destroyAll(): void {
    this.refusing = true;
    for (const socket of this.sockets.values()) socket.destroy();
    this.sockets.clear();
  }
}
