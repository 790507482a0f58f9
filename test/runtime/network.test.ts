// Real network namespaces, veths, a bridge and nftables on this machine. Every name (bridge, table,
// namespaces, subnet) comes from a per-run id so test files can run side by side, and everything made
// here is removed at the end. Traffic never leaves the bridge and namespaces created here.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BridgeNetwork,
  Ipam,
  locateShimBinary,
  parsePortMapping,
  ResidentShimLauncher,
  type BridgeNetworkOptions,
  type FirewallKind,
  type NamespaceInterfaceSetup,
  type NetworkAttachment,
} from '@flotilla/runtime';
import { registerRun, requireRoot } from './network-runs';
import { httpGet } from '../support/http-get';

const BUSYBOX = '/bin/busybox';

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** A port nothing on the host listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** An HTTP GET from inside a namespace, with busybox nc. */
function httpGetFrom(namespace: string, host: string, port: number): string {
  return execFileSync('ip', ['netns', 'exec', namespace, BUSYBOX, 'nc', '-w', '3', host, String(port)], {
    input: 'GET / HTTP/1.0\r\n\r\n',
    encoding: 'utf8',
    timeout: 10_000,
  });
}

function linksIn(namespace: string): string[] {
  return execFileSync('ip', ['-n', namespace, '-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (line.split(': ')[1] ?? '').split('@')[0] ?? '');
}

// The third run keeps ip processes for all attaches and detaches (persistentIp, three side by side
// as the node agent keeps them), so the concurrent attaches below spread over all three.
describe.each<[FirewallKind, number]>([
  ['nftables', 0],
  ['iptables', 0],
  ['nftables', 3],
])('bridge networking on real namespaces with %s (kept ip processes: %s)', (firewall, ipProcesses) => {
  const runBytes = randomBytes(4);
  const runId = runBytes.toString('hex');
  // A /24 inside 10.200.0.0/13 picked by the run id, so parallel runs rarely share one; the bridge is
  // ours alone either way, and nothing routes it anywhere.
  const subnet = `10.${200 + ((runBytes[0] ?? 0) % 8)}.${runBytes[1] ?? 0}.0/24`;
  let stateDir: string;
  let unregisterRun: (() => Promise<void>) | undefined;
  let webRoot: string;
  let network: BridgeNetwork;
  let networkOptions: BridgeNetworkOptions;
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    requireRoot();
    stateDir = await mkdtemp(join(tmpdir(), `flotilla-net-${runId}-`));
    webRoot = join(stateDir, 'www');
    await mkdir(webRoot);
    await writeFile(join(webRoot, 'index.html'), `hello from ${runId}\n`);
    const options: BridgeNetworkOptions = {
      name: `t${runId}`,
      bridge: `flt${runId}`,
      table: `flotilla_t${runId}`,
      subnet,
      stateDir,
      firewall,
      ...(ipProcesses > 0 ? { persistentIp: true, ipProcesses } : {}),
    };
    unregisterRun = await registerRun(runId, runId, options);
    networkOptions = options;
    network = new BridgeNetwork(options);
  });

  afterAll(async () => {
    for (const server of servers) server.kill('SIGKILL');
    if (network) await network.remove();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    await unregisterRun?.();
  });

  /** busybox httpd in the container's namespace, in the foreground so the test owns the process. */
  async function serveHttp(attachment: NetworkAttachment, port: number): Promise<void> {
    const server = spawn(
      'ip',
      [
        'netns',
        'exec',
        attachment.namespaceName ?? '',
        BUSYBOX,
        'httpd',
        '-f',
        '-p',
        String(port),
        '-h',
        webRoot,
      ],
      {
        stdio: 'ignore',
      },
    );
    servers.push(server);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const listening = execFileSync(
        'ip',
        ['netns', 'exec', attachment.namespaceName ?? '', BUSYBOX, 'netstat', '-ltn'],
        {
          encoding: 'utf8',
        },
      );
      if (listening.includes(`:${port} `)) return;
      if (Date.now() > deadline) throw new Error(`busybox httpd did not listen on ${port}`);
      await sleep(20);
    }
  }

  it('sets the host up once when the first containers attach at the same moment', async () => {
    const ids = ['p1', 'p2', 'p3'].map((prefix) => `${prefix}-${runId}`);
    const attached = await Promise.all(ids.map((containerId) => network.attach({ containerId })));
    expect(new Set(attached.map((attachment) => attachment.ipAddress)).size).toBe(3);
    // The base rules exist exactly once, whichever process won the race to load them.
    const hooks =
      firewall === 'nftables'
        ? execFileSync('nft', ['list', 'chain', 'ip', network.table, 'postrouting'], { encoding: 'utf8' })
            .split('\n')
            .filter((line) => line.includes('masquerade'))
        : execFileSync('iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING'], { encoding: 'utf8' })
            .split('\n')
            .filter((line) => line.includes(network.table.toUpperCase()));
    expect(hooks).toHaveLength(firewall === 'nftables' ? 2 : 1);
    for (const containerId of ids) await network.detach(containerId);
  });

  it('gives each container a namespace with lo and eth0, an address and a default route via the bridge', async () => {
    const attachment = await network.attach({ containerId: `a-${runId}` });
    expect(attachment.namespacePath).toBe(`/var/run/netns/flotilla-a-${runId}`);
    expect(await exists(attachment.namespacePath ?? '')).toBe(true);
    expect(linksIn(attachment.namespaceName ?? '').sort()).toEqual(['eth0', 'lo']);
    for (const device of ['lo', 'eth0']) {
      const flags = execFileSync('ip', ['-n', attachment.namespaceName ?? '', '-o', 'link', 'show', device], {
        encoding: 'utf8',
      });
      expect(flags).toMatch(/<[^>]*\bUP\b[^>]*>/);
    }
    const addresses = execFileSync(
      'ip',
      ['-n', attachment.namespaceName ?? '', '-4', '-o', 'addr', 'show', 'dev', 'eth0'],
      {
        encoding: 'utf8',
      },
    );
    expect(addresses).toContain(`${attachment.ipAddress}/24`);
    expect(attachment.gateway).toBe(network.gateway);
    const routes = execFileSync('ip', ['-n', attachment.namespaceName ?? '', 'route', 'show', 'default'], {
      encoding: 'utf8',
    });
    expect(routes).toContain(`default via ${network.gateway} dev eth0`);
    expect(await exists(`/sys/class/net/${attachment.hostVeth}/brif`)).toBe(false);
    expect(await exists(`/sys/class/net/${network.bridge}/brif/${attachment.hostVeth}`)).toBe(true);
    await network.detach(attachment.containerId);
  });

  it('removes the veth, the namespace and the address when the namespace side fails', async () => {
    const containerId = `broken-${runId}`;
    const bridgePorts = async (): Promise<string[]> =>
      (await readdir(`/sys/class/net/${network.bridge}/brif`).catch(() => [])).sort();
    const before = await bridgePorts();
    const launcher = new ResidentShimLauncher(locateShimBinary());
    let asked: NamespaceInterfaceSetup | undefined;
    // Another BridgeNetwork on the same bridge and state, as a second process would be; eth0 is
    // renamed just before the launcher configures it, so its real "finding eth0" step fails.
    const broken = new BridgeNetwork({
      ...networkOptions,
      namespaceConfigurator: {
        configureInterface: async (setup) => {
          asked = setup;
          execFileSync('ip', ['-n', `flotilla-${containerId}`, 'link', 'set', 'eth0', 'name', 'eth9'], {
            stdio: 'pipe',
          });
          return launcher.configureInterface(setup);
        },
      },
    });
    await expect(broken.attach({ containerId })).rejects.toThrow(
      `configuring eth0 in /var/run/netns/flotilla-${containerId} failed: finding eth0: No such device`,
    );
    expect(asked?.gateway).toBe(network.gateway);
    expect(await bridgePorts()).toEqual(before);
    expect(await exists(`/var/run/netns/flotilla-${containerId}`)).toBe(false);
    expect(await network.attachment(containerId)).toBeUndefined();
    const addresses = await new Ipam({ directory: join(stateDir, 'networks', `t${runId}`), subnet }).list();
    expect([...addresses.keys()]).not.toContain(containerId);
    expect([...addresses.values()]).not.toContain(asked?.address);
  });

  it('lets two containers reach each other by IP', async () => {
    const client = await network.attach({ containerId: `client-${runId}` });
    const server = await network.attach({ containerId: `server-${runId}` });
    expect(server.ipAddress).not.toBe(client.ipAddress);
    await serveHttp(server, 8000);
    expect(httpGetFrom(client.namespaceName ?? '', server.ipAddress ?? '', 8000)).toContain(
      `hello from ${runId}`,
    );
    await network.detach(client.containerId);
    await network.detach(server.containerId);
  });

  it('serves a published port on 127.0.0.1, on the bridge address, and to other containers', async () => {
    const hostPort = await freePort();
    const web = await network.attach({
      containerId: `web-${runId}`,
      ports: [parsePortMapping(`${hostPort}:80`)],
    });
    const other = await network.attach({ containerId: `other-${runId}` });
    await serveHttp(web, 80);

    expect(await httpGet('127.0.0.1', hostPort)).toContain(`hello from ${runId}`);
    expect(await httpGet(network.gateway, hostPort)).toContain(`hello from ${runId}`);
    expect(httpGetFrom(other.namespaceName ?? '', network.gateway, hostPort)).toContain(
      `hello from ${runId}`,
    );
    // Hairpin: the container reaches itself through its own published port.
    expect(httpGetFrom(web.namespaceName ?? '', network.gateway, hostPort)).toContain(`hello from ${runId}`);

    await network.unpublishPorts(web.containerId);
    await expect(httpGet('127.0.0.1', hostPort)).rejects.toThrow();
    await network.detach(web.containerId);
    await network.detach(other.containerId);
  });

  it('refuses a host port another container already published', async () => {
    const hostPort = await freePort();
    const first = await network.attach({
      containerId: `first-${runId}`,
      ports: [parsePortMapping(`${hostPort}:80`)],
    });
    await expect(
      network.attach({ containerId: `second-${runId}`, ports: [parsePortMapping(`${hostPort}:81`)] }),
    ).rejects.toThrow(/already published by another container/);
    // The failed attach left nothing behind.
    expect(await exists(`/var/run/netns/flotilla-second-${runId}`)).toBe(false);
    expect((await network.attachments()).map((attachment) => attachment.containerId)).toEqual([
      first.containerId,
    ]);
    await network.detach(first.containerId);
  });

  it('publishes on one host address only with -p hostIp:hostPort:containerPort', async () => {
    const hostPort = await freePort();
    const web = await network.attach({
      containerId: `bound-${runId}`,
      ports: [parsePortMapping(`127.0.0.1:${hostPort}:80`)],
    });
    await serveHttp(web, 80);
    expect(await httpGet('127.0.0.1', hostPort)).toContain(`hello from ${runId}`);
    // The bridge address is the host's too, but the port was not published there.
    await expect(httpGet(network.gateway, hostPort)).rejects.toThrow();
    // Every address overlaps the bound one; another address of the host does not.
    await expect(
      network.attach({ containerId: `any-${runId}`, ports: [parsePortMapping(`${hostPort}:81`)] }),
    ).rejects.toThrow(/already published by another container/);
    const beside = await network.attach({
      containerId: `beside-${runId}`,
      ports: [parsePortMapping(`${network.gateway}:${hostPort}:80`)],
    });
    await expect(
      network.attach({
        containerId: `far-${runId}`,
        ports: [parsePortMapping(`192.0.2.1:${hostPort}:80`)],
      }),
    ).rejects.toThrow(/192.0.2.1 is not an address of this host/);
    await network.detach(beside.containerId);
    await network.detach(web.containerId);
    await expect(httpGet('127.0.0.1', hostPort)).rejects.toThrow();
  });

  it('gives --network none a namespace with only loopback, up', async () => {
    const attachment = await network.attach({ containerId: `none-${runId}`, mode: 'none' });
    expect(linksIn(attachment.namespaceName ?? '')).toEqual(['lo']);
    const lo = execFileSync('ip', ['-n', attachment.namespaceName ?? '', 'link', 'show', 'lo'], {
      encoding: 'utf8',
    });
    expect(lo).toContain('UP');
    await network.detach(attachment.containerId);
    expect(await exists(attachment.namespacePath ?? '')).toBe(false);
  });

  it('gives --network host no namespace at all', async () => {
    const attachment = await network.attach({ containerId: `host-${runId}`, mode: 'host' });
    expect(attachment.namespacePath).toBeUndefined();
    await expect(
      network.attach({ containerId: `host2-${runId}`, mode: 'host', ports: [parsePortMapping('8080:80')] }),
    ).rejects.toThrow(/-p needs --network bridge/);
    await network.detach(attachment.containerId);
  });

  it('tears down every veth, namespace, address and rule', async () => {
    const hostPort = await freePort();
    const attachment = await network.attach({
      containerId: `gone-${runId}`,
      ports: [parsePortMapping(`${hostPort}:80`)],
    });
    expect(await network.listPublishedPorts()).toContain(`${hostPort}`);
    expect((await network.forwarder()).kind).toBe(firewall);
    await network.detach(attachment.containerId);
    expect(await exists(`/sys/class/net/${attachment.hostVeth}`)).toBe(false);
    expect(await exists(attachment.namespacePath ?? '')).toBe(false);
    expect(await network.listPublishedPorts()).not.toContain(`${hostPort}`);
    expect(await network.attachments()).toEqual([]);

    await network.remove();
    expect(await exists(`/sys/class/net/${network.bridge}`)).toBe(false);
    expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).not.toContain(network.table);
    for (const table of ['nat', 'filter']) {
      const rules = execFileSync('iptables', ['-w', '-t', table, '-S'], { encoding: 'utf8' });
      expect(rules.toLowerCase()).not.toContain(network.table.toLowerCase());
    }
    const leftovers = (await readdir('/var/run/netns').catch(() => [])).filter((name) =>
      name.includes(runId),
    );
    expect(leftovers).toEqual([]);
  });
});
