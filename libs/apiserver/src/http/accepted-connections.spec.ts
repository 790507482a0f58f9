import { connect, createServer, type Server, type Socket } from 'node:net';
import { AcceptedConnections } from './accepted-connections';

function listening(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    }),
  );
}

function connected(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('AcceptedConnections', () => {
  it('ends connections the server accepted but never handled, forgets closed ones and refuses late ones', async () => {
    // A server that does nothing with its connections, like a TLS server waiting for a ClientHello.
    const server = createServer();
    const connections = new AcceptedConnections();
    connections.track(server);
    const port = await listening(server);
    const first = await connected(port);
    const second = await connected(port);
    const third = await connected(port);
    await new Promise<void>((resolve) => {
      const poll = (): void => (connections.size === 3 ? resolve() : void setTimeout(poll, 5));
      poll();
    });
    third.destroy();
    await new Promise<void>((resolve) => {
      const poll = (): void => (connections.size === 2 ? resolve() : void setTimeout(poll, 5));
      poll();
    });

    const closed = Promise.all(
      [first, second].map((socket) => new Promise((resolve) => socket.once('close', resolve))),
    );
    connections.destroyAll();
    await closed;
    expect(connections.size).toBe(0);

    // Still listening, as a server is while its close() runs: what arrives now is ended at once.
    const late = await connected(port);
    await new Promise((resolve) => late.once('close', resolve));
    expect(connections.size).toBe(0);
    await new Promise((resolve) => server.close(resolve));
  });
});
