// The load client against servers on loopback that answer, fail, hang up or never answer.
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { roundRobin, startHttpLoad } from '@flotilla/loadgen';

function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

describe('startHttpLoad', () => {
  let server: Server;
  let port = 0;
  let connections = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/fail') {
        res.statusCode = 503;
        res.end('unavailable\n');
      } else if (req.url === '/reset') {
        req.socket.destroy();
      } else {
        res.end(`v1 ${String(req.headers.connection)}\nmore lines\n`);
      }
    });
    server.on('connection', () => connections++);
    port = await listen(server);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('counts successes by first line, on a new connection for every request', async () => {
    const before = connections;
    const load = startHttpLoad({
      target: () => ({ host: '127.0.0.1', port }),
      concurrency: 3,
      maxRequests: 30,
      pauseMs: 0,
    });
    while (load.report().total < 30) await new Promise((resolve) => setTimeout(resolve, 20));
    const report = await load.stop();
    expect(report).toEqual({
      total: 30,
      succeeded: 30,
      failed: 0,
      outcomes: { '200': 30 },
      bodies: { 'v1 close': 30 },
      failures: [],
    });
    expect(connections - before).toBeGreaterThanOrEqual(30);
  });

  it('counts failures by status and error code, with where and when', async () => {
    const closed = createTcpServer();
    const closedPort = await listen(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    // A server that accepts and never answers.
    const silent = createTcpServer(() => undefined);
    const silentPort = await listen(silent);
    try {
      const load = startHttpLoad({
        target: roundRobin([
          { host: '127.0.0.1', port, path: '/fail' },
          { host: '127.0.0.1', port, path: '/reset' },
          { host: '127.0.0.1', port: closedPort },
          { host: '127.0.0.1', port: silentPort },
          { host: '127.0.0.1', port },
        ]),
        concurrency: 1,
        maxRequests: 5,
        timeoutMs: 300,
        pauseMs: 0,
      });
      while (load.report().total < 5) await new Promise((resolve) => setTimeout(resolve, 20));
      const report = await load.stop();
      expect(report.total).toBe(5);
      expect(report.succeeded).toBe(1);
      expect(report.failed).toBe(4);
      expect(report.outcomes).toEqual({ '503': 1, ECONNRESET: 1, ECONNREFUSED: 1, timeout: 1, '200': 1 });
      expect(report.failures.map((failure) => [failure.target, failure.outcome])).toEqual([
        [`127.0.0.1:${port}/fail`, '503'],
        [`127.0.0.1:${port}/reset`, 'ECONNRESET'],
        [`127.0.0.1:${closedPort}/`, 'ECONNREFUSED'],
        [`127.0.0.1:${silentPort}/`, 'timeout'],
      ]);
      expect(report.failures.every((failure) => failure.atMs >= 0)).toBe(true);
    } finally {
      silent.close();
    }
  });

  it('stops when asked, letting requests in flight finish', async () => {
    const load = startHttpLoad({ target: () => ({ host: '127.0.0.1', port }), concurrency: 2, pauseMs: 5 });
    while (load.report().total < 10) await new Promise((resolve) => setTimeout(resolve, 10));
    const report = await load.stop();
    expect(report.failed).toBe(0);
    expect(report.total).toBe(report.succeeded);
    // Nothing is counted after stop() returned.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(load.report().total).toBe(report.total);
  });

  it('refuses an unbounded concurrency', () => {
    expect(() => startHttpLoad({ target: () => ({ host: '127.0.0.1', port }), concurrency: 1000 })).toThrow(
      /from 1 to 64/,
    );
  });
});
