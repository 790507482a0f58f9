// Host-gw routing between nodes, on real namespaces: this host is one node, a network namespace
// joined by a veth is its peer with a pod subnet of its own. Containers reach the peer's pods by their
// addresses and nothing else behind the peer. Also: pruning what dead containers left. Names come
// from a per-run id; everything is removed at the end, and a crashed run's leftovers at the start.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeNetwork, type BridgeNetworkOptions } from '@flotilla/runtime';
import { deleteNamespaceWithProcesses, registerRun, requireRoot } from './network-runs';

const BUSYBOX = '/bin/busybox';
const runBytes = randomBytes(4);
const runId = runBytes.toString('hex');
// A /16 cluster range inside 10.208.0.0/12, chosen by the run id; this node takes .1.0/24 of it and
// the peer .2.0/24. The link between the nodes uses 198.18.0.0/15, the range reserved for testing.
const clusterPrefix = `10.${208 + ((runBytes[0] ?? 0) % 16)}`;
const linkPrefix = `198.${18 + ((runBytes[1] ?? 0) % 2)}.${runBytes[2] ?? 0}`;
const peerNamespace = `flpeer-${runId}`;
const hostLink = `flu${runId}`;
const peerPod = `${clusterPrefix}.2.2`;
const peerNodeAddress = `${linkPrefix}.2`;

function ip(args: string[], input?: string): string {
  return execFileSync('ip', args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
}

/** One HTTP GET from inside a namespace with busybox nc; empty when nothing answers. */
function httpGetFrom(namespace: string, host: string, port: number): string {
  try {
    return execFileSync('ip', ['netns', 'exec', namespace, BUSYBOX, 'nc', '-w', '2', host, String(port)], {
      input: 'GET / HTTP/1.0\r\n\r\n',
      encoding: 'utf8',
      timeout: 10_000,
    });
  } catch {
    return '';
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('routes to peer nodes and pruning, on real namespaces', () => {
  let stateDir: string;
  let unregisterRun: (() => Promise<void>) | undefined;
  let network: BridgeNetwork;

  beforeAll(async () => {
    requireRoot();
    stateDir = await mkdtemp(join(tmpdir(), `flotilla-net-routes-${runId}-`));
    const options: BridgeNetworkOptions = {
      name: `r${runId}`,
      bridge: `flr${runId}`,
      table: `flotilla_r${runId}`,
      subnet: `${clusterPrefix}.1.0/24`,
      clusterCidr: `${clusterPrefix}.0.0/16`,
      stateDir,
      // The link to the peer is a veth with 1500, but nodes usually sit on smaller uplinks.
      mtu: 1400,
    };
    unregisterRun = await registerRun(`r${runId}`, runId, options);
    network = new BridgeNetwork(options);

    // The peer node: its own namespace, a link to us, a "pod" address of its pod subnet, and its
    // route back to our pod subnet, as its own agent would set up.
    const www = join(stateDir, 'www');
    await mkdir(www);
    await writeFile(join(www, 'index.html'), `peer pod ${runId}\n`);
    ip(['netns', 'add', peerNamespace]);
    ip(
      ['-batch', '-'],
      [
        `link add ${hostLink} type veth peer name uplink netns ${peerNamespace}`,
        `addr add ${linkPrefix}.1/30 dev ${hostLink}`,
        `link set ${hostLink} up`,
        '',
      ].join('\n'),
    );
    ip(
      ['-n', peerNamespace, '-batch', '-'],
      [
        'link set lo up',
        `addr add ${peerNodeAddress}/30 dev uplink`,
        'link set uplink up',
        // The pod address sits on the peer's loopback: this kernel has no dummy devices, and to us a
        // pod on the peer's bridge looks no different.
        `addr add ${peerPod}/32 dev lo`,
        `route add ${clusterPrefix}.1.0/24 via ${linkPrefix}.1`,
        '',
      ].join('\n'),
    );
    // One web server answering on every address of the peer: its pod address and its node address.
    execFileSync('ip', ['netns', 'exec', peerNamespace, BUSYBOX, 'httpd', '-p', '80', '-h', www]);
  });

  afterAll(async () => {
    if (await exists(`/var/run/netns/${peerNamespace}`)) deleteNamespaceWithProcesses(peerNamespace);
    if (network) await network.remove();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    await unregisterRun?.();
  });

  it('reaches a pod on the peer node through the route, and nothing else behind the peer', async () => {
    const container = await network.attach({ containerId: `c-${runId}` });
    await network.addPeerRoute({ subnet: `${clusterPrefix}.2.0/24`, via: peerNodeAddress });
    expect(ip(['route', 'show', `${clusterPrefix}.2.0/24`])).toContain(`via ${peerNodeAddress}`);
    expect(ip(['-o', 'link', 'show', network.bridge])).toContain('mtu 1400');
    expect(ip(['-o', 'link', 'show', container.hostVeth ?? ''])).toContain('mtu 1400');
    expect(ip(['-n', container.namespaceName ?? '', '-o', 'link', 'show', 'eth0'])).toContain('mtu 1400');

    expect(httpGetFrom(container.namespaceName ?? '', peerPod, 80)).toContain(`peer pod ${runId}`);
    // The peer's node address is outside the cluster range: the forward guard drops it, although the
    // host could route there. This is what keeps containers off any uplink.
    expect(httpGetFrom(container.namespaceName ?? '', peerNodeAddress, 80)).toBe('');

    await network.removePeerRoute(`${clusterPrefix}.2.0/24`);
    await network.removePeerRoute(`${clusterPrefix}.2.0/24`);
    expect(ip(['route', 'show', `${clusterPrefix}.2.0/24`])).toBe('');
    expect(httpGetFrom(container.namespaceName ?? '', peerPod, 80)).toBe('');
    await network.detach(container.containerId);
  });

  it('refuses routes outside the cluster range or over our own subnet', async () => {
    await expect(network.addPeerRoute({ subnet: '192.0.2.0/24', via: peerNodeAddress })).rejects.toThrow(
      /inside the cluster CIDR/,
    );
    await expect(
      network.addPeerRoute({ subnet: `${clusterPrefix}.1.0/24`, via: peerNodeAddress }),
    ).rejects.toThrow(/not overlap this node's/);
    await expect(network.addPeerRoute({ subnet: `${clusterPrefix}.3.0/24`, via: peerPod })).rejects.toThrow(
      /must be its node address/,
    );
  });

  it('prunes containers that are gone, with their veth, namespace and address', async () => {
    const alive = await network.attach({ containerId: `alive-${runId}` });
    const dead = await network.attach({ containerId: `dead-${runId}` });
    expect(await network.prune((id) => id === alive.containerId)).toEqual([dead.containerId]);
    expect(await exists(dead.namespacePath ?? '')).toBe(false);
    expect(await exists(`/sys/class/net/${dead.hostVeth}`)).toBe(false);
    expect((await network.attachments()).map((attachment) => attachment.containerId)).toEqual([
      alive.containerId,
    ]);
    // The dead container's address is free again.
    const next = await network.attach({ containerId: `next-${runId}` });
    expect(next.ipAddress).toBe(dead.ipAddress);
    await network.detach(alive.containerId);
    await network.detach(next.containerId);
  });
});
