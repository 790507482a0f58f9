// One bridge network per host: a Linux bridge holding the gateway address, an IPAM file, firewall
// rules for published ports (an nftables table, or iptables chains), and per container a named network namespace joined to the bridge by a
// veth pair. Everything about a container's attachment is written to the state dir, so any process
// (the CLI removing a container the agent started) can tear it down.
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { access, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked, runCommand } from './command-runner';
import { IpBatchSession } from './ip-batch.session';
import { withFileLock } from './file-lock';
import { Ipam } from './ipam';
import {
  formatIpv4,
  formatSubnet,
  gatewayOf,
  parseIpv4,
  parseSubnet,
  subnetContains,
  subnetWithin,
  type Ipv4Subnet,
} from './ipv4';
import {
  checkNamespaceName,
  createNetworkNamespace,
  namespaceExists,
  namespacePath,
} from './network-namespace';
import {
  NetworkError,
  type NamespaceConfigurator,
  type NetworkAttachment,
  type NetworkMode,
  type PortMapping,
  type PortProtocol,
} from './network.types';
import { locateShimBinary } from '../shim/shim-binary';
import { ResidentShimLauncher } from '../shim/shim-launcher';
import { IptablesForwarder } from './iptables.forwarder';
import { NftablesForwarder } from './nftables.forwarder';
import { commandOnPath, type FirewallKind, type PortForwarder } from './port-forwarder';
import { checkPortConflicts, formatPortMapping } from './port-mapping';

// The runtime-wide default; FLOTILLA_STATE_DIR or the stateDir option override it.
const DEFAULT_STATE_DIR = '/var/lib/flotilla';

export interface BridgeNetworkOptions {
  /** The network's name, used for its state directory (default "flotilla"). */
  name?: string;
  /** The Linux bridge (default "flot0"; at most 15 characters). */
  bridge?: string;
  /** The subnet; the bridge takes its first address (default 10.88.0.0/16). */
  subnet?: string;
  /** The nftables table of this network (default "flotilla"). */
  table?: string;
  /** State directory (default $FLOTILLA_STATE_DIR or /var/lib/flotilla). */
  stateDir?: string;
  /** Which firewall programs published ports: nftables when nft is installed (auto), else iptables. */
  firewall?: FirewallKind | 'auto';
  /**
   * The pod range of the whole cluster, containing this bridge's subnet and every peer node's; the
   * only addresses beyond this host that containers may reach (through addPeerRoute). Defaults to
   * the bridge's subnet: a single host.
   */
  clusterCidr?: string;
  /**
   * MTU of the bridge and every veth (default: the kernel's 1500). Set it to the uplink's MTU minus
   * any encapsulation when peer nodes sit behind a smaller one, or large packets will vanish.
   */
  mtu?: number;
  /**
   * Keep one `ip -batch` process for bursts of attaches and detaches instead of spawning ip for each
   * (for long-lived processes that set up many namespaces, like the node agent; see IpBatchSession).
   */
  persistentIp?: boolean;
  /**
   * With persistentIp: how many ip processes take requests side by side (default 1). Each attach
   * waits on kernel locks; on a busy host one process makes a burst of attaches queue behind each
   * other's waits.
   */
  ipProcesses?: number;
  /**
   * Configures the inside of each container's namespace (default: a resident shim launcher of
   * FLOTILLA_SHIM or this checkout's shim, started on the first bridge attach).
   */
  namespaceConfigurator?: NamespaceConfigurator;
}

export interface PeerRoute {
  /** The peer node's pod subnet, inside the cluster CIDR. */
  subnet: string;
  /** The peer node's address on a network this host reaches directly. */
  via: string;
}

export interface AttachOptions {
  containerId: string;
  mode?: NetworkMode;
  /** The namespace's name (default "flotilla-<containerId>"). */
  namespaceName?: string;
  ports?: readonly PortMapping[];
}

const INTERFACE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const TABLE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
const CONTAINER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function interfaceExists(name: string): Promise<boolean> {
  return pathExists(join('/sys/class/net', name));
}

/** Per-interface sysctls, written directly: no sysctl process, and nothing global like ip_forward. */
async function setInterfaceSysctl(device: string, key: string, value: string): Promise<void> {
  const path = join('/proc/sys/net/ipv4/conf', device, key);
  try {
    await writeFile(path, value);
  } catch (error) {
    throw new NetworkError(
      `cannot write ${value} to ${path} (${errorCode(error) ?? String(error)}); run as root`,
    );
  }
}

/** A port bound to one address only works for an address of this host (as Docker's bind would fail). */
function checkHostAddresses(ports: readonly PortMapping[]): void {
  // Listing the host's interfaces is a synchronous netlink dump that grows with every veth on the
  // host (in a 33-pod burst 53 ms of blocked event loop in all, ~1.6 ms per attach): only an explicit
  // host address needs it.
  if (ports.every((mapping) => mapping.hostIp === undefined)) return;
  const local = new Set(
    Object.values(networkInterfaces())
      .flat()
      .flatMap((entry) => (entry?.family === 'IPv4' ? [entry.address] : [])),
  );
  for (const mapping of ports) {
    if (mapping.hostIp !== undefined && !local.has(mapping.hostIp)) {
      throw new NetworkError(
        `-p ${formatPortMapping(mapping)}: ${mapping.hostIp} is not an address of this host; use one of ${[...local].join(', ')} or leave the address out`,
      );
    }
  }
}

/** The kernel's ephemeral port range (net.ipv4.ip_local_port_range), Linux's default if unreadable. */
async function ephemeralPortRange(): Promise<[number, number]> {
  const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '');
  const [low, high] = text.trim().split(/\s+/).map(Number);
  return low !== undefined && high !== undefined && low >= 1 && high <= 65535 && low <= high
    ? [low, high]
    : [32768, 60999];
}

/** Whether nothing on the host holds the port: a DNAT rule would silently take its traffic away. */
function hostPortFree(protocol: PortProtocol, hostIp: string | undefined, port: number): Promise<boolean> {
  const address = hostIp ?? '0.0.0.0';
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', () => {
        socket.close();
        resolve(false);
      });
      socket.bind({ port, address, exclusive: true }, () => socket.close(() => resolve(true)));
      return;
    }
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: address, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export class BridgeNetwork {
  readonly name: string;
  readonly bridge: string;
  readonly table: string;
  readonly subnet: Ipv4Subnet;
  readonly clusterCidr: Ipv4Subnet;
  readonly gateway: string;
  private readonly directory: string;
  private readonly ipam: Ipam;
  private readonly firewall: FirewallKind | 'auto';
  private readonly mtu?: number;
  private forwarderChoice?: Promise<PortForwarder>;
  /** Set once ensure has seen everything in place, so later attaches spawn nothing for it. */
  private ensured = false;
  private readonly ipSessions: IpBatchSession[] = [];
  private namespaceConfigurator: NamespaceConfigurator | undefined;

  constructor(options: BridgeNetworkOptions = {}) {
    this.name = options.name ?? 'flotilla';
    this.bridge = options.bridge ?? 'flot0';
    this.table = options.table ?? 'flotilla';
    const subnet = options.subnet ?? '10.88.0.0/16';
    this.subnet = parseSubnet(subnet);
    this.clusterCidr = options.clusterCidr === undefined ? this.subnet : parseSubnet(options.clusterCidr);
    if (!subnetWithin(this.subnet, this.clusterCidr)) {
      throw new NetworkError(
        `subnet ${formatSubnet(this.subnet)} is not inside the cluster CIDR ${formatSubnet(this.clusterCidr)}; every node's pod subnet must be`,
      );
    }
    this.gateway = formatIpv4(gatewayOf(this.subnet));
    if (!CONTAINER_ID_PATTERN.test(this.name)) {
      throw new NetworkError(
        `network name ${JSON.stringify(this.name)} must be letters, digits, "_", "." or "-"`,
      );
    }
    if (!INTERFACE_NAME_PATTERN.test(this.bridge)) {
      throw new NetworkError(
        `bridge name ${JSON.stringify(this.bridge)} must be 1-15 letters, digits, "_", "." or "-"`,
      );
    }
    if (!TABLE_NAME_PATTERN.test(this.table)) {
      throw new NetworkError(
        `nftables table ${JSON.stringify(this.table)} must be a letter then letters, digits or "_"`,
      );
    }
    const stateDir = options.stateDir ?? process.env['FLOTILLA_STATE_DIR'] ?? DEFAULT_STATE_DIR;
    this.directory = join(stateDir, 'networks', this.name);
    this.ipam = new Ipam({ directory: this.directory, subnet });
    this.firewall = options.firewall ?? 'auto';
    if (options.persistentIp === true) {
      const count = options.ipProcesses ?? 1;
      if (!Number.isInteger(count) || count < 1 || count > 16) {
        throw new NetworkError(`ipProcesses ${String(count)} must be an integer from 1 to 16`);
      }
      for (let i = 0; i < count; i++) this.ipSessions.push(new IpBatchSession());
    }
    this.namespaceConfigurator = options.namespaceConfigurator;
    if (options.mtu !== undefined) {
      if (!Number.isInteger(options.mtu) || options.mtu < 576 || options.mtu > 65535) {
        throw new NetworkError(`mtu ${String(options.mtu)} must be an integer from 576 to 65535`);
      }
      this.mtu = options.mtu;
    }
  }

  /** The kept ip process with the fewest requests in hand (requests of one container never overlap). */
  private ipSession(): IpBatchSession | undefined {
    let best: IpBatchSession | undefined;
    for (const session of this.ipSessions) {
      if (best === undefined || session.pendingRequests < best.pendingRequests) best = session;
    }
    return best;
  }

  private configurator(): NamespaceConfigurator {
    this.namespaceConfigurator ??= new ResidentShimLauncher(locateShimBinary());
    return this.namespaceConfigurator;
  }

  private get mtuClause(): string {
    return this.mtu === undefined ? '' : ` mtu ${this.mtu}`;
  }

  /** The port forwarder, chosen once: nftables if asked for or installed, else iptables. */
  forwarder(): Promise<PortForwarder> {
    this.forwarderChoice ??= (async () => {
      const options = {
        table: this.table,
        bridge: this.bridge,
        subnet: this.subnet,
        clusterCidr: this.clusterCidr,
      };
      let kind = this.firewall;
      if (kind === 'auto') kind = (await commandOnPath('nft')) ? 'nftables' : 'iptables';
      return kind === 'nftables' ? new NftablesForwarder(options) : new IptablesForwarder(options);
    })();
    return this.forwarderChoice;
  }

  /** Creates the bridge, its sysctls and the firewall rules if missing; free once all are there. */
  async ensure(): Promise<void> {
    if (this.ensured && (await interfaceExists(this.bridge))) return;
    await mkdir(this.directory, { recursive: true });
    // Two processes starting the first containers of a fresh host must not both create the bridge
    // or both load the base rules (nft would add every rule twice).
    await withFileLock(join(this.directory, 'setup.lock'), async () => {
      if (!(await interfaceExists(this.bridge))) {
        // A kept ip process may remember the old bridge's interface index; start afresh.
        for (const session of this.ipSessions) session.close();
        const batch = [
          `link add name ${this.bridge}${this.mtuClause} type bridge`,
          `addr add ${this.gateway}/${this.subnet.prefixLength} dev ${this.bridge}`,
          `link set ${this.bridge} up`,
        ].join('\n');
        await runChecked(`creating bridge ${this.bridge}`, 'ip', ['-batch', '-'], `${batch}\n`);
      }
      // Forwarding on the bridge only (hairpin through a published port is routed back onto it),
      // and route_localnet so 127.0.0.1:hostPort may be DNATed onto the bridge.
      await setInterfaceSysctl(this.bridge, 'forwarding', '1');
      await setInterfaceSysctl(this.bridge, 'route_localnet', '1');
      await (await this.forwarder()).ensure();
    });
    this.ensured = true;
  }

  /**
   * Gives a container its network: bridge (own namespace, veth into the bridge, an address, default
   * route via the bridge, published ports), none (own namespace with loopback only) or host (nothing).
   */
  async attach(options: AttachOptions): Promise<NetworkAttachment> {
    const mode = options.mode ?? 'bridge';
    const { containerId } = options;
    if (!CONTAINER_ID_PATTERN.test(containerId)) {
      throw new NetworkError(
        `container id ${JSON.stringify(containerId)} must be letters, digits, "_", "." or "-"`,
      );
    }
    const ports = [...(options.ports ?? [])];
    if (mode !== 'bridge' && ports.length > 0) {
      throw new NetworkError(
        `-p needs --network bridge: with --network ${mode} there is no container address to forward to`,
      );
    }
    checkPortConflicts(ports);
    checkHostAddresses(ports);
    if (await this.readAttachment(containerId)) {
      throw new NetworkError(
        `container ${containerId} is already attached to network ${this.name}; detach it first`,
      );
    }
    if (mode === 'host') {
      const attachment: NetworkAttachment = { containerId, mode, ports: [] };
      await this.writeAttachment(attachment);
      return attachment;
    }
    const namespaceName = options.namespaceName ?? `flotilla-${containerId}`.slice(0, 63);
    checkNamespaceName(namespaceName);
    if (mode === 'none') {
      const path = await createNetworkNamespace(namespaceName);
      const attachment: NetworkAttachment = {
        containerId,
        mode,
        namespaceName,
        namespacePath: path,
        ports: [],
      };
      await this.writeAttachment(attachment);
      return attachment;
    }
    return this.attachToBridge(containerId, namespaceName, ports);
  }

  private async attachToBridge(
    containerId: string,
    namespaceName: string,
    ports: PortMapping[],
  ): Promise<NetworkAttachment> {
    if (await namespaceExists(namespaceName)) {
      throw new NetworkError(
        `network namespace ${namespaceName} already exists; delete it first (ip netns delete ${namespaceName})`,
      );
    }
    await this.ensure();
    const hostVeth = this.hostVethName(containerId);
    const ipAddress = await this.ipam.allocate(containerId);
    const attachment: NetworkAttachment = {
      containerId,
      mode: 'bridge',
      network: this.name,
      namespaceName,
      namespacePath: namespacePath(namespaceName),
      ipAddress,
      prefixLength: this.subnet.prefixLength,
      gateway: this.gateway,
      hostVeth,
      ports: [],
    };
    // Recorded before anything is created, so a failure half-way is cleaned up by the same detach.
    await this.writeAttachment(attachment);
    try {
      // Host side: the namespace, the veth pair with its container end created inside the namespace
      // as eth0 (no rename, no clash with the host's eth0; its MTU set with the pair), enslaved with
      // hairpin on so a container can reach itself through a published port.
      const batch = [
        `netns add ${namespaceName}`,
        `link add name ${hostVeth}${this.mtuClause} type veth peer name eth0${this.mtuClause} netns ${namespaceName}`,
        `link set ${hostVeth} master ${this.bridge}`,
        `link set ${hostVeth} type bridge_slave hairpin on`,
        `link set ${hostVeth} up`,
      ];
      const step = `attaching ${containerId} to bridge ${this.bridge}`;
      const session = this.ipSession();
      if (session) await session.runChecked(step, batch);
      else await runChecked(step, 'ip', ['-batch', '-'], `${batch.join('\n')}\n`);
      // Namespace side: loopback, the address, the link and the default route, set from inside the
      // namespace by a child of the resident launcher. IPv4 addresses do not survive a link's move
      // between namespaces, so no host-side ip line can do this, and `ip netns exec` would start a
      // process per pod (7-12 ms each on this machine, serial on a node).
      await this.configurator().configureInterface({
        namespacePath: namespacePath(namespaceName),
        device: 'eth0',
        address: ipAddress,
        prefixLength: this.subnet.prefixLength,
        gateway: this.gateway,
      });
      if (ports.length > 0) await this.publishPorts(containerId, ports);
    } catch (error) {
      await this.detach(containerId).catch(() => undefined);
      throw error;
    }
    return (await this.readAttachment(containerId)) ?? attachment;
  }

  /**
   * Publishes more ports of an attached bridge-mode container; all or none are added. A host port of
   * 0 becomes a free one: chosen and recorded under the network's port lock, so two containers of
   * ours starting at once never pick the same one (a bind probe alone would not see our DNAT rules).
   */
  async publishPorts(containerId: string, ports: readonly PortMapping[]): Promise<NetworkAttachment> {
    if (!ports.some((mapping) => mapping.hostPort === 0)) return this.publishChosen(containerId, ports);
    await mkdir(this.directory, { recursive: true });
    return withFileLock(join(this.directory, 'ports.lock'), async () =>
      this.publishChosen(containerId, await this.chooseHostPorts(ports)),
    );
  }

  private async publishChosen(
    containerId: string,
    ports: readonly PortMapping[],
  ): Promise<NetworkAttachment> {
    const attachment = await this.requireAttachment(containerId);
    if (attachment.mode !== 'bridge' || attachment.ipAddress === undefined) {
      throw new NetworkError(
        `container ${containerId} runs with --network ${attachment.mode}; only bridge mode can publish ports`,
      );
    }
    if (ports.length === 0) return attachment;
    checkPortConflicts([...attachment.ports, ...ports]);
    checkHostAddresses(ports);
    await this.ensure();
    await (await this.forwarder()).publish(ports, attachment.ipAddress);
    attachment.ports = [...attachment.ports, ...ports];
    await this.writeAttachment(attachment);
    return attachment;
  }

  /**
   * Gives each mapping with host port 0 a port from the kernel's ephemeral range (where Docker picks
   * too) that no attachment of this network holds and no host socket is bound to. Call under the lock.
   */
  private async chooseHostPorts(ports: readonly PortMapping[]): Promise<PortMapping[]> {
    const taken = new Set<string>();
    const key = (protocol: string, hostPort: number): string => `${protocol}/${hostPort}`;
    for (const attachment of await this.attachments()) {
      for (const mapping of attachment.ports) taken.add(key(mapping.protocol, mapping.hostPort));
    }
    for (const mapping of ports) taken.add(key(mapping.protocol, mapping.hostPort));
    const [low, high] = await ephemeralPortRange();
    const size = high - low + 1;
    const chosen: PortMapping[] = [];
    for (const mapping of ports) {
      if (mapping.hostPort !== 0) {
        chosen.push(mapping);
        continue;
      }
      // A random start spreads containers over the range instead of all probing from its bottom.
      const start = Math.floor(Math.random() * size);
      let hostPort: number | undefined;
      for (let step = 0; step < size && hostPort === undefined; step++) {
        const candidate = low + ((start + step) % size);
        if (taken.has(key(mapping.protocol, candidate))) continue;
        if (await hostPortFree(mapping.protocol, mapping.hostIp, candidate)) hostPort = candidate;
      }
      if (hostPort === undefined) {
        throw new NetworkError(
          `no free ${mapping.protocol} host port in ${low}-${high} for container port ${mapping.containerPort}`,
        );
      }
      taken.add(key(mapping.protocol, hostPort));
      chosen.push({ ...mapping, hostPort });
    }
    return chosen;
  }

  /** Removes all published ports of the container (or the given ones); missing rules are fine. */
  async unpublishPorts(containerId: string, ports?: readonly PortMapping[]): Promise<NetworkAttachment> {
    const attachment = await this.requireAttachment(containerId);
    const removing = ports ?? attachment.ports;
    if (removing.length === 0) return attachment;
    if (attachment.ipAddress !== undefined) {
      await (await this.forwarder()).unpublish(removing, attachment.ipAddress);
    }
    const removed = new Set(removing.map(formatPortMapping));
    attachment.ports = attachment.ports.filter((mapping) => !removed.has(formatPortMapping(mapping)));
    await this.writeAttachment(attachment);
    return attachment;
  }

  /** Undoes attach: ports, veth, namespace, address and record. Safe to repeat and after a partial attach. */
  async detach(containerId: string): Promise<void> {
    const attachment = await this.readAttachment(containerId);
    if (attachment === undefined) return;
    if (attachment.ports.length > 0) await this.unpublishPorts(containerId);
    // One ip for the whole teardown; -force runs every line even if one thing is already gone, and
    // what is left afterwards is what really failed.
    const teardown: string[] = [];
    if (attachment.hostVeth !== undefined && (await interfaceExists(attachment.hostVeth))) {
      teardown.push(`link delete ${attachment.hostVeth}`);
    }
    if (attachment.namespaceName !== undefined && (await namespaceExists(attachment.namespaceName))) {
      teardown.push(`netns delete ${attachment.namespaceName}`);
    }
    if (teardown.length > 0) {
      const session = this.ipSession();
      const said = session
        ? (await session.run(teardown)).errors.join('; ')
        : await runCommand('ip', ['-force', '-batch', '-'], `${teardown.join('\n')}\n`).then(
            (result) => result.stderr.trim() || `ip exited ${result.exitCode}`,
          );
      const vethLeft = attachment.hostVeth !== undefined && (await interfaceExists(attachment.hostVeth));
      const namespaceLeft =
        attachment.namespaceName !== undefined && (await namespaceExists(attachment.namespaceName));
      if (vethLeft || namespaceLeft) {
        throw new NetworkError(
          `detaching ${containerId} left ${vethLeft ? `veth ${attachment.hostVeth ?? ''}` : `namespace ${attachment.namespaceName ?? ''}`} behind: ${said || 'ip reported no error'}`,
        );
      }
    }
    if (attachment.mode === 'bridge') await this.ipam.release(containerId);
    await rm(this.attachmentFile(containerId), { force: true });
  }

  /**
   * Routes a peer node's pod subnet through that node (host-gw style), so containers here reach
   * containers there by their own addresses, and lets replies from that side into the bridge.
   */
  async addPeerRoute(route: PeerRoute): Promise<void> {
    const peer = parseSubnet(route.subnet);
    const via = parseIpv4(route.via);
    if (
      !subnetWithin(peer, this.clusterCidr) ||
      subnetWithin(peer, this.subnet) ||
      subnetWithin(this.subnet, peer)
    ) {
      throw new NetworkError(
        `peer subnet ${route.subnet} must lie inside the cluster CIDR ${formatSubnet(this.clusterCidr)} and not overlap this node's ${formatSubnet(this.subnet)}`,
      );
    }
    if (subnetContains(this.clusterCidr, via)) {
      throw new NetworkError(
        `the peer's address ${route.via} must be its node address, not one inside the pod range`,
      );
    }
    const output = await runChecked(
      `routing ${route.subnet} via ${route.via}`,
      'ip',
      ['-batch', '-'],
      `route replace ${formatSubnet(peer)} via ${formatIpv4(via)}\nroute get ${formatIpv4(via)}\n`,
    );
    // Replies and new connections from the peer arrive on that link and are forwarded into the bridge.
    const device = /\bdev (\S+)/.exec(output)?.[1];
    if (device === undefined) {
      throw new NetworkError(
        `ip route get ${route.via} did not name a device; is ${route.via} directly reachable?`,
      );
    }
    await setInterfaceSysctl(device, 'forwarding', '1');
  }

  /** Removes the route to a peer's pod subnet; one already gone is fine. */
  async removePeerRoute(subnet: string): Promise<void> {
    const peer = formatSubnet(parseSubnet(subnet));
    const result = await runCommand('ip', ['route', 'delete', peer]);
    if (result.exitCode !== 0 && !/No such process|not found/i.test(result.stderr)) {
      throw new NetworkError(`removing the route to ${peer} failed: ${result.stderr.trim()}`);
    }
  }

  /**
   * Detaches every recorded container that isLive says is gone (a crash between start and clean-up
   * leaves its address, veth and rules behind); returns the ids it removed.
   */
  async prune(isLive: (containerId: string) => boolean | Promise<boolean>): Promise<string[]> {
    const removed: string[] = [];
    for (const attachment of await this.attachments()) {
      if (await isLive(attachment.containerId)) continue;
      await this.detach(attachment.containerId);
      removed.push(attachment.containerId);
    }
    return removed;
  }

  /** The container's attachment as recorded, or undefined (one file read, not a directory scan). */
  async attachment(containerId: string): Promise<NetworkAttachment | undefined> {
    if (!CONTAINER_ID_PATTERN.test(containerId)) {
      throw new NetworkError(
        `container id ${JSON.stringify(containerId)} must be letters, digits, "_", "." or "-"`,
      );
    }
    return this.readAttachment(containerId);
  }

  /** Every container attached to this network, as recorded. */
  async attachments(): Promise<NetworkAttachment[]> {
    let names: string[];
    try {
      names = await readdir(join(this.directory, 'attachments'));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw error;
    }
    const found: NetworkAttachment[] = [];
    for (const name of names.filter((entry) => entry.endsWith('.json'))) {
      const attachment = await this.readAttachment(name.slice(0, -'.json'.length));
      if (attachment) found.push(attachment);
    }
    return found;
  }

  /** Detaches every container, then removes the table, the bridge and the network's state. */
  async remove(): Promise<void> {
    for (const attachment of await this.attachments()) await this.detach(attachment.containerId);
    await (await this.forwarder()).remove();
    this.ensured = false;
    if (await interfaceExists(this.bridge)) {
      await runChecked(`deleting bridge ${this.bridge}`, 'ip', ['link', 'delete', this.bridge]);
    }
    await rm(this.directory, { recursive: true, force: true });
    for (const session of this.ipSessions) session.close();
  }

  /** The published ports as the firewall lists them, for diagnostics. */
  async listPublishedPorts(): Promise<string> {
    return (await this.forwarder()).describe();
  }

  get subnetText(): string {
    return formatSubnet(this.subnet);
  }

  /** "flv" + 12 hex of a hash: unique per network and container, within the kernel's 15 characters. */
  private hostVethName(containerId: string): string {
    return `flv${createHash('sha256').update(`${this.name}/${containerId}`).digest('hex').slice(0, 12)}`;
  }

  private attachmentFile(containerId: string): string {
    return join(this.directory, 'attachments', `${containerId}.json`);
  }

  private async readAttachment(containerId: string): Promise<NetworkAttachment | undefined> {
    try {
      return JSON.parse(await readFile(this.attachmentFile(containerId), 'utf8')) as NetworkAttachment;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw new NetworkError(
        `${this.attachmentFile(containerId)} is unreadable (${String(error)}); remove it and the container's netns`,
      );
    }
  }

  private async requireAttachment(containerId: string): Promise<NetworkAttachment> {
    const attachment = await this.readAttachment(containerId);
    if (attachment === undefined) {
      throw new NetworkError(`container ${containerId} is not attached to network ${this.name}`);
    }
    return attachment;
  }

  private async writeAttachment(attachment: NetworkAttachment): Promise<void> {
    const file = this.attachmentFile(attachment.containerId);
    await mkdir(join(this.directory, 'attachments'), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(attachment, null, 2)}\n`);
    await rename(temporary, file);
  }
}
