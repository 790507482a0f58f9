// The server on loopback sockets: Node's own resolver (c-ares) as the client, raw packets for what a
// resolver never sends, and a second instance of the server standing in for the upstream.
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import type { ClusterNames, ServiceNames } from './cluster-names.types';
import {
  ClusterDnsServer,
  listenWhenAddressExists,
  parseClusterDomain,
  parseDnsUpstream,
  serveClusterDns,
} from './cluster-dns.server';

function tableOf(services: Map<string, ServiceNames>): ClusterNames {
  return {
    lookupService: (namespace, name) => services.get(`${namespace}/${name}`),
    hasNamespace: (namespace) => [...services.keys()].some((key) => key.startsWith(`${namespace}/`)),
  };
}

const services = new Map<string, ServiceNames>([
  [
    'shop/web',
    { clusterIP: '10.96.0.12', ready: ['10.88.1.5'], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
  ],
  // 60 endpoints: about 1 KB of answers, over the 512 bytes of a UDP answer.
  [
    'shop/big',
    {
      clusterIP: 'None',
      ready: Array.from({ length: 60 }, (_, index) => `10.88.3.${index + 1}`),
      ports: [],
    },
  ],
]);

function exchangeUdp(port: number, packet: Uint8Array, waitMs = 300): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, waitMs);
    socket.on('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(message);
    });
    socket.send(packet, port, '127.0.0.1');
  });
}

function rawQuery(name: string, id = 0x0101, type = 1): Buffer {
  const labels = name.split('.').flatMap((label) => [label.length, ...Buffer.from(label)]);
  return Buffer.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, type, 0, 1]);
}

describe('ClusterDnsServer on loopback', () => {
  let server: ClusterDnsServer;
  let resolver: Resolver;

  beforeAll(async () => {
    server = new ClusterDnsServer({ names: tableOf(services), address: '127.0.0.1', port: 0 });
    const port = await server.listen();
    resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers A, SRV and NXDOMAIN to a real resolver', async () => {
    await expect(resolver.resolve4('web.shop.svc.cluster.local')).resolves.toEqual(['10.96.0.12']);
    await expect(resolver.resolveSrv('_http._tcp.web.shop.svc.cluster.local')).resolves.toEqual([
      { name: 'web.shop.svc.cluster.local', port: 8080, priority: 0, weight: 100 },
    ]);
    await expect(resolver.resolve4('nope.shop.svc.cluster.local')).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
    await expect(resolver.resolve6('web.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(resolver.resolve4('example.com')).rejects.toMatchObject({ code: 'EREFUSED' });
  });

  it('truncates a long answer over UDP; the resolver gets all of it again over TCP', async () => {
    const udp = await exchangeUdp(server.port, rawQuery('big.shop.svc.cluster.local'));
    expect(udp).toBeDefined();
    expect((udp?.readUInt16BE(2) ?? 0) & 0x0200).toBe(0x0200);
    const addresses = await resolver.resolve4('big.shop.svc.cluster.local');
    expect(addresses.sort()).toEqual([...(services.get('shop/big')?.ready ?? [])].sort());
  });

  it('sees a change in the table at the next query', async () => {
    services.set('shop/new', { clusterIP: '10.96.0.99', ready: [], ports: [] });
    try {
      await expect(resolver.resolve4('new.shop.svc.cluster.local')).resolves.toEqual(['10.96.0.99']);
    } finally {
      services.delete('shop/new');
    }
  });

  it('answers hostile packets with FORMERR or nothing, and keeps serving', async () => {
    const before = server.stats.formErrors;
    const loop = Buffer.from([0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    const formErr = await exchangeUdp(server.port, loop);
    expect(formErr?.readUInt16BE(0)).toBe(0xabcd);
    expect((formErr?.readUInt16BE(2) ?? 0) & 0x000f).toBe(1);
    // Too short for an id, and a response: nothing comes back.
    await expect(exchangeUdp(server.port, Buffer.from([1, 2, 3]), 200)).resolves.toBeUndefined();
    const response = rawQuery('web.shop.svc.cluster.local');
    response[2] = 0x81;
    await expect(exchangeUdp(server.port, response, 200)).resolves.toBeUndefined();
    expect(server.stats.formErrors).toBe(before + 1);
    await expect(resolver.resolve4('web.shop.svc.cluster.local')).resolves.toEqual(['10.96.0.12']);
  });

  it('answers pipelined TCP queries split across writes, in order', async () => {
    const frames = [0x0a01, 0x0a02].map((id) => {
      const query = rawQuery(
        id === 0x0a01 ? 'web.shop.svc.cluster.local' : 'nope.shop.svc.cluster.local',
        id,
      );
      const framed = Buffer.alloc(2 + query.length);
      framed.writeUInt16BE(query.length, 0);
      query.copy(framed, 2);
      return framed;
    });
    const whole = Buffer.concat(frames);
    const replies = await new Promise<Buffer[]>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: server.port });
      let received = Buffer.alloc(0);
      const messages: Buffer[] = [];
      socket.on('error', reject);
      socket.on('connect', () => {
        // Three writes that cut through the length prefix and the first message.
        socket.write(whole.subarray(0, 1));
        setTimeout(() => socket.write(whole.subarray(1, 20)), 20);
        setTimeout(() => socket.write(whole.subarray(20)), 40);
      });
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          messages.push(received.subarray(2, 2 + received.readUInt16BE(0)));
          received = received.subarray(2 + received.readUInt16BE(0));
        }
        if (messages.length === 2) {
          socket.destroy();
          resolve(messages);
        }
      });
    });
    expect(replies.map((reply) => [reply.readUInt16BE(0), reply.readUInt16BE(2) & 0x000f])).toEqual([
      [0x0a01, 0],
      [0x0a02, 3],
    ]);
  });
});

describe('ClusterDnsServer TCP limits', () => {
  function closed(socket: ReturnType<typeof connect>): Promise<void> {
    return new Promise((resolve) => socket.on('close', () => resolve()));
  }

  it('closes connections over the limit at once and idle ones after the idle time', async () => {
    const server = new ClusterDnsServer({
      names: tableOf(services),
      address: '127.0.0.1',
      port: 0,
      maxTcpConnections: 1,
      tcpIdleMs: 200,
    });
    const port = await server.listen();
    try {
      const first = connect({ host: '127.0.0.1', port });
      const firstClosed = closed(first);
      await new Promise((resolve) => first.on('connect', resolve));
      // Accepted in order: the second arrives while the first is still open.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = connect({ host: '127.0.0.1', port });
      second.on('error', () => undefined);
      await closed(second);
      expect(first.destroyed).toBe(false);
      // The first never sends anything: the idle timer ends it.
      await firstClosed;
    } finally {
      await server.close();
    }
  });

  it('cuts off a client that pipelines more than 64 queries at once', async () => {
    const server = new ClusterDnsServer({ names: tableOf(services), address: '127.0.0.1', port: 0 });
    const port = await server.listen();
    try {
      const query = rawQuery('web.shop.svc.cluster.local');
      const framed = Buffer.alloc(2 + query.length);
      framed.writeUInt16BE(query.length, 0);
      query.copy(framed, 2);
      const socket = connect({ host: '127.0.0.1', port });
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.on('connect', resolve));
      socket.pause();
      socket.write(Buffer.concat(Array.from({ length: 2000 }, () => framed)));
      await closed(socket);
      expect(socket.destroyed).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('ClusterDnsServer with a failing table', () => {
  it('answers SERVFAIL and keeps serving', async () => {
    let failing = true;
    const server = new ClusterDnsServer({
      names: {
        lookupService: () => {
          if (failing) throw new Error('table unavailable');
          return { clusterIP: '10.96.0.1', ready: [], ports: [] };
        },
        hasNamespace: () => true,
      },
      address: '127.0.0.1',
      port: 0,
    });
    const port = await server.listen();
    try {
      const reply = await exchangeUdp(port, rawQuery('web.shop.svc.cluster.local'), 2000);
      expect((reply?.readUInt16BE(2) ?? 0) & 0x000f).toBe(2);
      failing = false;
      const resolver = new Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([`127.0.0.1:${port}`]);
      await expect(resolver.resolve4('web.shop.svc.cluster.local')).resolves.toEqual(['10.96.0.1']);
    } finally {
      await server.close();
    }
  });
});

describe('ClusterDnsServer forwarding', () => {
  it('forwards names outside the cluster domain to the upstream over UDP and TCP', async () => {
    // The "upstream" is another instance serving a domain of its own, on loopback.
    const upstream = new ClusterDnsServer({
      names: tableOf(new Map([['corp/intranet', { clusterIP: '10.1.2.3', ready: [], ports: [] }]])),
      address: '127.0.0.1',
      port: 0,
      domain: 'example.test',
    });
    const upstreamPort = await upstream.listen();
    const server = new ClusterDnsServer({
      names: tableOf(services),
      address: '127.0.0.1',
      port: 0,
      upstream: { host: '127.0.0.1', port: upstreamPort },
    });
    const port = await server.listen();
    try {
      const resolver = new Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([`127.0.0.1:${port}`]);
      await expect(resolver.resolve4('intranet.corp.svc.example.test')).resolves.toEqual(['10.1.2.3']);
      await expect(resolver.resolve4('web.shop.svc.cluster.local')).resolves.toEqual(['10.96.0.12']);
      expect(server.stats.forwarded).toBe(1);
      // Over TCP, the upstream is asked over TCP too.
      await expect(
        new Promise<string>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port });
          const query = rawQuery('intranet.corp.svc.example.test', 0x0c0c);
          socket.on('error', reject);
          socket.on('connect', () => {
            const framed = Buffer.alloc(2 + query.length);
            framed.writeUInt16BE(query.length, 0);
            query.copy(framed, 2);
            socket.write(framed);
          });
          socket.on('data', (chunk: Buffer) => {
            socket.destroy();
            // The last four bytes of the single A answer are the address.
            resolve([...chunk.subarray(chunk.length - 4)].join('.'));
          });
        }),
      ).resolves.toBe('10.1.2.3');
    } finally {
      await server.close();
      await upstream.close();
    }
  });

  it('answers SERVFAIL when the upstream does not answer', async () => {
    // A bound UDP socket that never replies stands in for a dead upstream.
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    const server = new ClusterDnsServer({
      names: tableOf(services),
      address: '127.0.0.1',
      port: 0,
      upstream: { host: '127.0.0.1', port: silent.address().port },
      upstreamTimeoutMs: 100,
    });
    const port = await server.listen();
    try {
      const reply = await exchangeUdp(port, rawQuery('example.com'), 2000);
      expect((reply?.readUInt16BE(2) ?? 0) & 0x000f).toBe(2);
    } finally {
      await server.close();
      silent.close();
    }
  });
});

describe('ClusterDnsServer listening', () => {
  it('says so when the port is taken, and closes what it opened', async () => {
    const first = new ClusterDnsServer({ names: tableOf(services), address: '127.0.0.1', port: 0 });
    const port = await first.listen();
    try {
      const second = new ClusterDnsServer({ names: tableOf(services), address: '127.0.0.1', port });
      await expect(listenWhenAddressExists(second)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });

  it('waits for an address that does not exist yet, until stopped', async () => {
    // 192.0.2.1 (TEST-NET-1) is on no interface here: binding it fails with EADDRNOTAVAIL.
    const server = new ClusterDnsServer({ names: tableOf(services), address: '192.0.2.1', port: 0 });
    const stop = new AbortController();
    let waiting = false;
    const listening = listenWhenAddressExists(server, {
      retryMs: 10,
      signal: stop.signal,
      onWaiting: () => {
        waiting = true;
        stop.abort();
      },
    });
    await expect(listening).rejects.toThrow(/stopped before the address appeared/);
    expect(waiting).toBe(true);
  });

  it('refuses a cluster domain that is not a DNS name', () => {
    expect(
      () => new ClusterDnsServer({ names: tableOf(services), address: '127.0.0.1', domain: 'bad domain' }),
    ).toThrow(/not a DNS name like cluster.local/);
  });
});

describe('serveClusterDns', () => {
  it('listens in the background and stops', async () => {
    const running = serveClusterDns({ names: tableOf(services), address: '127.0.0.1', port: 0 });
    const port = await running.listening;
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    await expect(resolver.resolve4('web.shop.svc.cluster.local')).resolves.toEqual(['10.96.0.12']);
    await running.stop();
    await expect(exchangeUdp(port, rawQuery('web.shop.svc.cluster.local'), 200)).resolves.toBeUndefined();
  });

  it('can be stopped while it still waits for its address', async () => {
    let waiting = false;
    const running = serveClusterDns({
      names: tableOf(services),
      address: '192.0.2.1',
      port: 0,
      retryMs: 10,
      onWaiting: () => {
        waiting = true;
      },
    });
    while (!waiting) await new Promise((resolve) => setTimeout(resolve, 5));
    await running.stop();
    await expect(running.listening).rejects.toThrow(/stopped before the address appeared/);
  });
});

describe('parseDnsUpstream', () => {
  it.each([
    ['10.0.0.2', { host: '10.0.0.2', port: 53 }],
    ['10.0.0.2:5353', { host: '10.0.0.2', port: 5353 }],
    [' 192.168.1.1:53 ', { host: '192.168.1.1', port: 53 }],
  ])('%s', (text, upstream) => {
    expect(parseDnsUpstream(text)).toEqual(upstream);
  });

  it.each(['dns.example.com', '10.0.0.256', '10.0.0.2:0', '10.0.0.2:70000', '[::1]:53', ''])(
    'refuses %j',
    (text) => {
      expect(() => parseDnsUpstream(text)).toThrow(/must be an IPv4 address with an optional port/);
    },
  );
});

describe('parseClusterDomain', () => {
  it.each([
    ['cluster.local', 'cluster.local'],
    ['Cluster.Local.', 'cluster.local'],
    ['corp', 'corp'],
  ])('%s → %s', (text, domain) => {
    expect(parseClusterDomain(text)).toBe(domain);
  });

  it.each(['', '.', 'bad domain', '-a.local', 'a..local', `${'x'.repeat(64)}.local`])(
    'refuses %j',
    (text) => {
      expect(() => parseClusterDomain(text)).toThrow(/not a DNS name like cluster.local/);
    },
  );
});
