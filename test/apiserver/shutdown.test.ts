// Closing the apiserver closes every connection it accepted, including those still in their TLS
// handshake. Node's HTTPS and HTTP/2 servers only track a connection once its handshake is done, so a
// client that connected just before close() (a node agent reconnecting after its stream was closed
// for the shutdown) kept a socket open in the apiserver's process until the peer went away; in the
// test suite that held jest open after the last test.
import { connect, type Socket } from 'node:net';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { readFileSync } from 'node:fs';
import { startTestControlPlane, type TestControlPlane } from '../support/cluster';

function connected(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with how the server ended the socket; rejects if it is still open after `limitMs`. */
function closedByServer(socket: Socket, what: string, limitMs = 15_000): Promise<'closed'> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) {
      resolve('closed');
      return;
    }
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${what}: still open ${limitMs / 1000} s after the apiserver closed`));
    }, limitMs);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

describe('apiserver shutdown', () => {
  let plane: TestControlPlane | undefined;

  afterAll(async () => {
    await plane?.stop().catch(() => undefined);
  });

  it('closes connections of both ports that are still in their TLS handshake, and idle keep-alive ones', async () => {
    plane = await startTestControlPlane('shutdown', { nodeService: true });
    const httpsPort = Number(new URL(plane.url).port);
    const grpcPort = plane.grpcPort;
    if (grpcPort === undefined) throw new Error('the test apiserver started without its NodeService');

    // Connected, nothing sent: to the server these are handshakes waiting for a ClientHello.
    const handshakingHttps = await connected(httpsPort);
    const handshakingGrpc = await connected(grpcPort);
    // And a finished request on a kept-alive connection.
    const agent = new HttpsAgent({ keepAlive: true, ca: readFileSync(plane.caFile) });
    const idleSocket = await new Promise<Socket>((resolve, reject) => {
      let socket: Socket | undefined;
      const request = httpsRequest(
        `${plane?.url ?? ''}/readyz`,
        { agent, headers: { authorization: `Bearer ${plane?.token ?? ''}` } },
        (response) => {
          response.resume();
          response.on('end', () => (socket ? resolve(socket) : reject(new Error('no socket'))));
        },
      );
      request.on('socket', (assigned) => (socket = assigned));
      request.on('error', reject);
      request.end();
    });

    const closes = Promise.all([
      closedByServer(handshakingHttps, 'a connection to the HTTPS port in its handshake'),
      closedByServer(handshakingGrpc, 'a connection to the gRPC port in its handshake'),
      closedByServer(idleSocket, 'an idle keep-alive HTTPS connection'),
    ]);
    await plane.apiserver.close();
    await expect(closes).resolves.toEqual(['closed', 'closed', 'closed']);
    agent.destroy();
  });
});
