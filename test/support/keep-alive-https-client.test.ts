// The benchmarks' keep-alive HTTPS client against a real node:https server on loopback: bodies both
// ways, chunked and close-delimited answers, connection reuse and its limit, and a server that hangs up.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureClusterPki } from '@flotilla/cluster';
import { KeepAliveHttpsClient } from '@flotilla/loadgen';

describe('KeepAliveHttpsClient', () => {
  let dir = '';
  let server: Server;
  let url = '';
  let ca: Buffer;
  const sockets = new Set<unknown>();
  let inFlight = 0;
  let mostInFlight = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-keepalive-'));
    const pki = ensureClusterPki({ dir, apiserverHosts: ['127.0.0.1'] });
    ca = readFileSync(pki.caCertFile);
    server = createServer(
      { cert: readFileSync(pki.apiserver.certFile), key: readFileSync(pki.apiserver.keyFile) },
      (req, res) => {
        sockets.add(req.socket);
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          setTimeout(() => {
            inFlight--;
            if (req.url === '/echo') {
              res.writeHead(201, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
              res.end(body);
            } else if (req.url === '/chunked') {
              res.write('first,');
              res.end(' second');
            } else if (req.url === '/close') {
              res.writeHead(200, { connection: 'close' });
              res.end('closing');
            } else if (req.url === '/hang-up') {
              req.socket.destroy();
            } else {
              res.writeHead(404, { 'content-length': 9 });
              res.end('not found');
            }
          }, 5);
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the body and reads the whole answer, reusing its connections up to the limit', async () => {
    const client = new KeepAliveHttpsClient({ url, ca, maxConnections: 4 });
    sockets.clear();
    mostInFlight = 0;
    const bodies = Array.from({ length: 40 }, (_, i) => `{"n":${i},"text":"${'x'.repeat(i * 100)}"}`);
    const answers = await Promise.all(
      bodies.map((body) =>
        client.request({
          method: 'POST',
          path: '/echo',
          headers: { 'content-type': 'application/json' },
          body,
        }),
      ),
    );
    client.close();
    expect(answers.map((answer) => answer.status)).toEqual(bodies.map(() => 201));
    expect(answers.map((answer) => answer.body.toString())).toEqual(bodies);
    expect(sockets.size).toBe(4);
    expect(mostInFlight).toBe(4);
  });

  it('reads chunked and close-delimited answers, then opens a new connection', async () => {
    const client = new KeepAliveHttpsClient({ url, ca, maxConnections: 1 });
    const chunked = await client.request({ method: 'GET', path: '/chunked' });
    const closing = await client.request({ method: 'GET', path: '/close' });
    const after = await client.request({ method: 'GET', path: '/missing' });
    client.close();
    expect([chunked.status, chunked.body.toString()]).toEqual([200, 'first, second']);
    expect([closing.status, closing.body.toString(), closing.closes]).toEqual([200, 'closing', true]);
    expect([after.status, after.body.toString()]).toEqual([404, 'not found']);
  });

  it('fails the request whose connection the server drops, and serves the next one', async () => {
    const client = new KeepAliveHttpsClient({ url, ca, maxConnections: 1 });
    await expect(client.request({ method: 'GET', path: '/hang-up' })).rejects.toThrow(
      /closed the connection/,
    );
    const next = await client.request({ method: 'POST', path: '/echo', body: 'again' });
    client.close();
    expect(next.body.toString()).toBe('again');
  });

  it('refuses a server whose certificate the CA did not sign', async () => {
    const other = ensureClusterPki({ dir: join(dir, 'other'), apiserverHosts: ['127.0.0.1'] });
    const client = new KeepAliveHttpsClient({ url, ca: readFileSync(other.caCertFile) });
    await expect(client.request({ method: 'GET', path: '/echo' })).rejects.toThrow(/certificate/);
    client.close();
  });
});
