// The cluster DNS on a real address as pods reach it: the server listens on the host end of a veth
// (as it does on a node's pod-bridge gateway), and a network namespace at the other end, with the
// /etc/resolv.conf a pod gets (namespace search path, ndots:5), resolves through busybox's libc
// (nslookup, wget to an HTTP server behind the name) and Node's resolver over UDP and TCP.
// Namespace, links and /etc/netns entries are named after the run (with this process's pid, so a
// later run removes what a killed one left) and removed at the end.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Resolver } from 'node:dns/promises';
import { promisify } from 'node:util';
import { ClusterDnsServer, type ClusterNames, type ServiceNames } from '@flotilla/node-agent';

const run = promisify(execFile);
const NAMESPACE_PREFIX = 'fdns-';
const suffix = randomBytes(2).toString('hex');
const netns = `${NAMESPACE_PREFIX}${process.pid}-${suffix}`;
const hostLink = `fdh${suffix}${process.pid % 1000}`.slice(0, 15);
const podLink = `fdn${suffix}`;
// A /30 of 10.253.0.0/16 picked by the run, so two runs side by side do not share one.
const third = randomBytes(1)[0] ?? 0;
const fourth = ((randomBytes(1)[0] ?? 0) & 0x3f) << 2;
const serverAddress = `10.253.${third}.${fourth + 1}`;
const podAddress = `10.253.${third}.${fourth + 2}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes namespaces (and their /etc/netns files) of earlier runs whose process is gone. */
function sweepDeadRuns(): void {
  const names = new Set(
    [
      ...readdirSync('/var/run/netns', { withFileTypes: true }).map((entry) => entry.name),
      ...readdirSync('/etc/netns', { withFileTypes: true }).map((entry) => entry.name),
    ].filter((name) => name.startsWith(NAMESPACE_PREFIX)),
  );
  for (const name of names) {
    const pid = Number(name.slice(NAMESPACE_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || alive(pid)) continue;
    removeNamespace(name);
  }
}

function removeNamespace(name: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    execFileSync('ip', ['netns', 'delete', name]);
  } catch {
    // Not there (only its /etc/netns directory was).
  }
  rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
}

function inPod(...command: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('ip', ['netns', 'exec', netns, ...command], { encoding: 'utf8', timeout: 20_000 });
}

const services = new Map<string, ServiceNames>();
const names: ClusterNames = {
  lookupService: (namespace, name) => services.get(`${namespace}/${name}`),
  hasNamespace: (namespace) => [...services.keys()].some((key) => key.startsWith(`${namespace}/`)),
};

describe('cluster DNS from a network namespace', () => {
  let dns: ClusterDnsServer | undefined;
  let http: Server | undefined;
  let httpPort = 0;
  let madeEtcNetns = false;

  beforeAll(async () => {
    if (process.getuid?.() !== 0) {
      throw new Error(
        'the cluster DNS test creates a network namespace and a veth pair and listens on port 53: run it as root (CI does)',
      );
    }
    mkdirSync('/var/run/netns', { recursive: true });
    madeEtcNetns = !existsSync('/etc/netns');
    mkdirSync('/etc/netns', { recursive: true });
    sweepDeadRuns();
    const batch = [
      `netns add ${netns}`,
      `link add ${hostLink} type veth peer name ${podLink} netns ${netns}`,
      `addr add ${serverAddress}/30 dev ${hostLink}`,
      `link set ${hostLink} up`,
      `-n ${netns} link set lo up`,
      `-n ${netns} addr add ${podAddress}/30 dev ${podLink}`,
      `-n ${netns} link set ${podLink} up`,
    ];
    for (const line of batch) execFileSync('ip', line.split(' '));
    // What a pod in namespace "shop" gets from the engine (pod-dns.util resolvConf); `ip netns exec`
    // bind-mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf for the commands it runs.
    mkdirSync(`/etc/netns/${netns}`, { recursive: true });
    writeFileSync(
      `/etc/netns/${netns}/resolv.conf`,
      `search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${serverAddress}\noptions ndots:5\n`,
    );
    http = createServer((request, response) => response.end(`hello from ${request.headers.host ?? '?'}\n`));
    await new Promise<void>((resolve) => http?.listen(0, serverAddress, () => resolve()));
    const address = http.address();
    httpPort = typeof address === 'object' && address !== null ? address.port : 0;
    // The "ClusterIP" is the HTTP server's address: a name that resolves lets wget connect.
    services.set('shop/web', {
      clusterIP: serverAddress,
      ready: [podAddress],
      ports: [{ name: 'http', port: httpPort, protocol: 'TCP' }],
    });
    services.set('shop/db', {
      clusterIP: 'None',
      ready: Array.from({ length: 60 }, (_, index) => `10.88.7.${index + 1}`),
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    });
    dns = new ClusterDnsServer({ names, address: serverAddress, port: 53 });
    await dns.listen();
  });

  afterAll(async () => {
    await dns?.close();
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    removeNamespace(netns);
    if (madeEtcNetns && readdirSync('/etc/netns').length === 0) rmdirSync('/etc/netns');
  });

  it('answers busybox nslookup for a service FQDN, a named port and a missing name', async () => {
    const { stdout } = await inPod('busybox', 'nslookup', 'web.shop.svc.cluster.local');
    expect(stdout).toContain(`Address: ${serverAddress}`);
    const srv = await inPod('busybox', 'nslookup', '-type=srv', '_http._tcp.web.shop.svc.cluster.local');
    expect(srv.stdout).toContain(`0 100 ${httpPort} web.shop.svc.cluster.local`);
    const missing = await inPod('busybox', 'nslookup', 'nope.shop.svc.cluster.local').catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
    );
    expect(missing.stdout).toMatch(/NXDOMAIN/);
  });

  it('lets a pod reach a service by its FQDN and by its short names through the search path', async () => {
    for (const host of ['web.shop.svc.cluster.local', 'web.shop', 'web']) {
      const { stdout } = await inPod('busybox', 'wget', '-q', '-O', '-', `http://${host}:${httpPort}/`);
      expect(stdout).toBe(`hello from ${host}:${httpPort}\n`);
    }
  });

  it('follows the table: a service added later resolves, a removed one stops', async () => {
    services.set('shop/late', { clusterIP: serverAddress, ready: [], ports: [] });
    const added = await inPod('busybox', 'wget', '-q', '-O', '-', `http://late:${httpPort}/`);
    expect(added.stdout).toBe(`hello from late:${httpPort}\n`);
    services.delete('shop/late');
    await expect(inPod('busybox', 'wget', '-q', '-O', '-', `http://late:${httpPort}/`)).rejects.toMatchObject(
      {
        stderr: expect.stringMatching(/bad address 'late/),
      },
    );
  });

  it('answers Node resolvers on the same address: a headless service over UDP then TCP', async () => {
    const resolver = new Resolver({ timeout: 3000, tries: 1 });
    resolver.setServers([serverAddress]);
    await expect(resolver.resolve4('web.shop.svc.cluster.local')).resolves.toEqual([serverAddress]);
    // 60 endpoints do not fit 512 bytes: truncated over UDP, the resolver asks again over TCP.
    const endpoints = await resolver.resolve4('db.shop.svc.cluster.local');
    expect(endpoints.sort()).toEqual([...(services.get('shop/db')?.ready ?? [])].sort());
    await expect(resolver.resolve4('10-253-0-9.shop.pod.cluster.local')).resolves.toEqual(['10.253.0.9']);
    await expect(resolver.resolve4('example.com')).rejects.toMatchObject({ code: 'EREFUSED' });
  });
});
