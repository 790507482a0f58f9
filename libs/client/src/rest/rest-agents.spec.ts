import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConnectionConfig } from '../kubeconfig/kubeconfig.types';
import { createRestAgents, requestSocketLimit } from './rest-agents';
import { RestClient } from './rest-client';

/** A loopback server that counts connections and, for /hold, keeps the response open. */
interface CountingServer {
  readonly url: string;
  /** Connections accepted so far, and the most open at one moment. */
  readonly stats: { accepted: number; open: number; mostOpen: number };
  readonly held: ServerResponse[];
  close(): Promise<void>;
}

async function countingServer(answerDelayMs: number): Promise<CountingServer> {
  const stats = { accepted: 0, open: 0, mostOpen: 0 };
  const held: ServerResponse[] = [];
  const server: Server = createServer((request, response) => {
    if (request.url?.startsWith('/hold')) {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('');
      held.push(response);
      return;
    }
    setTimeout(() => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end('{"ok":true}');
    }, answerDelayMs);
  });
  server.on('connection', (socket) => {
    stats.accepted += 1;
    stats.open += 1;
    stats.mostOpen = Math.max(stats.mostOpen, stats.open);
    socket.once('close', () => (stats.open -= 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    held,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of held) response.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function connection(server: string): ConnectionConfig {
  return { server, namespace: 'default' };
}

describe('requestSocketLimit', () => {
  it('is no cap unless told, and refuses a cap that is not a whole number of at least 1', () => {
    expect(requestSocketLimit(undefined)).toBe(Infinity);
    expect(requestSocketLimit(16)).toBe(16);
    expect(() => requestSocketLimit(0)).toThrow(/at least 1/);
    expect(() => requestSocketLimit(2.5)).toThrow(/whole number/);
  });
});

describe('createRestAgents', () => {
  it('gives requests and streams one TLS context, read once', () => {
    const agents = createRestAgents(connection('https://127.0.0.1:6443'), { maxRequestSockets: 4 });
    const requestOptions = (agents.requests as unknown as { options: { secureContext?: unknown } }).options;
    const streamOptions = (agents.streams as unknown as { options: { secureContext?: unknown } }).options;
    expect(requestOptions.secureContext).toBeDefined();
    expect(streamOptions.secureContext).toBe(requestOptions.secureContext);
    expect(agents.requests.maxSockets).toBe(4);
    expect(agents.streams.maxSockets).toBe(Infinity);
    agents.requests.destroy();
    agents.streams.destroy();
  });
});

describe('RestClient connection pools', () => {
  let server: CountingServer;
  let client: RestClient | undefined;
  afterEach(async () => {
    client?.close();
    client = undefined;
    await server.close();
  });

  it('keeps requests within maxRequestSockets connections and answers every one', async () => {
    server = await countingServer(20);
    client = new RestClient(connection(server.url), { maxRequestSockets: 2 });
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => client?.request<{ ok: boolean }>({ method: 'GET', path: '/x' })),
    );
    expect(answers).toEqual(Array.from({ length: 8 }, () => ({ ok: true })));
    expect(server.stats.accepted).toBe(2);
    expect(server.stats.mostOpen).toBe(2);
  });

  it('opens streams outside the cap, so an open watch never holds up a request', async () => {
    server = await countingServer(0);
    client = new RestClient(connection(server.url), { maxRequestSockets: 1 });
    const stream = await client.openStream({ path: '/hold' });
    await expect(client.request({ method: 'GET', path: '/x' })).resolves.toEqual({ ok: true });
    expect(server.stats.accepted).toBe(2);
    stream.destroy();
  });

  it('warmUp opens the connections a later burst reuses', async () => {
    server = await countingServer(5);
    client = new RestClient(connection(server.url), { maxRequestSockets: 3 });
    await client.warmUp(3);
    expect(server.stats.accepted).toBe(3);
    await Promise.all(Array.from({ length: 9 }, () => client?.request({ method: 'GET', path: '/x' })));
    expect(server.stats.accepted).toBe(3);
  });
});
