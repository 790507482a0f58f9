// The "LAN" of a cluster of node hosts: one Linux bridge on the host with the host's own address (.1,
// where the control plane and the registry listen), and every node's veth enslaved to it. Nodes reach
// each other by bridging alone; nothing is routed or NATed towards any other interface.
//
// What this touches on the host, and why:
// - net.ipv4.conf.<bridge>.forwarding = 0 (written explicitly, whatever the host default is): a node
//   sends everything that is not on the LAN to the host (its default route); with forwarding off on
//   the ingress bridge the kernel drops it instead of routing it to the uplink. Goes with the bridge.
// - br_netfilter: where the module is loaded and net.bridge.bridge-nf-call-iptables is 1 (it is on
//   Debian hosts with Docker, and here), frames bridged between two node veths traverse iptables'
//   FORWARD chain. When that chain's policy is DROP (Docker sets it), node-to-node traffic would die,
//   so we insert one rule, `-I FORWARD -i <bridge> -o <bridge> -j ACCEPT` with a comment naming the
//   cluster, record that we did, and delete exactly that rule on removal. With policy ACCEPT nothing
//   is added. The global sysctl itself is never changed (other bridges on the host rely on it).
//   A host whose own nftables ruleset drops forwarded traffic needs an accept rule for the bridge
//   from its administrator: an accept in a table of ours cannot override a drop in theirs.
import { readFile, writeFile } from 'node:fs/promises';
import { runChecked, runCommand } from '@flotilla/runtime';
import { lanGateway, LAN_PREFIX_LENGTH, lanSubnet } from './lan-addressing.util';
import { lanBridgeName } from './node-host-names.util';

export interface NodeLanRecord {
  readonly bridge: string;
  readonly block: number;
  /** "172.31.7.0/24" */
  readonly subnet: string;
  /** The host's address on the bridge: the nodes' gateway. */
  readonly gateway: string;
  /** The iptables FORWARD accept rule we inserted because the chain's policy drops; removed with the LAN. */
  readonly forwardRule?: readonly string[];
}

const BRIDGE_NF_CALL_IPTABLES = '/proc/sys/net/bridge/bridge-nf-call-iptables';

async function interfaceExists(name: string): Promise<boolean> {
  const result = await runCommand('ip', ['link', 'show', 'dev', name]);
  return result.exitCode === 0;
}

/** Creates the LAN bridge (or adopts the one this cluster made earlier) and makes bridged traffic pass. */
export async function createNodeLan(options: { clusterId: string; block: number }): Promise<NodeLanRecord> {
  const bridge = lanBridgeName(options.clusterId);
  const gateway = lanGateway(options.block);
  const subnet = lanSubnet(options.block);
  if (!(await interfaceExists(bridge))) {
    const batch = [
      `link add name ${bridge} type bridge`,
      `addr add ${gateway}/${LAN_PREFIX_LENGTH} dev ${bridge}`,
      `link set ${bridge} up`,
    ];
    await runChecked(
      `creating the node LAN bridge ${bridge}`,
      'ip',
      ['-batch', '-'],
      `${batch.join('\n')}\n`,
    );
  } else {
    const addresses = await runChecked('reading the LAN bridge', 'ip', [
      '-4',
      '-o',
      'addr',
      'show',
      'dev',
      bridge,
    ]);
    if (!addresses.includes(` ${gateway}/${LAN_PREFIX_LENGTH} `)) {
      await runChecked('addressing the LAN bridge', 'ip', [
        'addr',
        'replace',
        `${gateway}/${LAN_PREFIX_LENGTH}`,
        'dev',
        bridge,
      ]);
    }
    await runChecked('bringing the LAN bridge up', 'ip', ['link', 'set', bridge, 'up']);
  }
  await writeFile(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, '0');
  const forwardRule = await allowBridgedForwarding(bridge, options.clusterId);
  return { bridge, block: options.block, subnet, gateway, ...(forwardRule ? { forwardRule } : {}) };
}

async function allowBridgedForwarding(bridge: string, clusterId: string): Promise<string[] | undefined> {
  const callsIptables = (await readFile(BRIDGE_NF_CALL_IPTABLES, 'utf8').catch(() => '0')).trim() === '1';
  if (!callsIptables) return undefined;
  const chain = await runCommand('iptables', ['-w', '-S', 'FORWARD']).catch(() => undefined);
  if (chain === undefined || chain.exitCode !== 0) return undefined;
  if (!/^-P FORWARD (DROP|REJECT)$/m.test(chain.stdout)) return undefined;
  const rule = [
    'FORWARD',
    '-i',
    bridge,
    '-o',
    bridge,
    '-m',
    'comment',
    '--comment',
    `flotilla-lan-${clusterId}`,
    '-j',
    'ACCEPT',
  ];
  const present = await runCommand('iptables', ['-w', '-C', ...rule]);
  if (present.exitCode !== 0) {
    await runChecked('letting bridged node traffic through iptables FORWARD', 'iptables', [
      '-w',
      '-I',
      ...rule,
    ]);
  }
  return rule;
}

/** Deletes the bridge and the rule we added; what is already gone is fine. */
export async function removeNodeLan(record: NodeLanRecord): Promise<void> {
  if (record.forwardRule) {
    const rule = [...record.forwardRule];
    while ((await runCommand('iptables', ['-w', '-C', ...rule])).exitCode === 0) {
      await runChecked('removing the LAN forward rule', 'iptables', ['-w', '-D', ...rule]);
    }
  }
  if (await interfaceExists(record.bridge)) {
    await runChecked(`deleting the node LAN bridge ${record.bridge}`, 'ip', [
      'link',
      'delete',
      record.bridge,
    ]);
  }
}

/** Every IPv4 address and route on the host, as CIDRs, for picking a LAN block no one uses. */
export async function hostIpv4Cidrs(): Promise<string[]> {
  const addresses = await runChecked('listing addresses', 'ip', ['-4', '-o', 'addr', 'show']);
  const routes = await runChecked('listing routes', 'ip', ['-4', 'route', 'show', 'table', 'all']);
  const cidrs: string[] = [];
  for (const line of addresses.split('\n')) {
    const match = /\binet (\d+\.\d+\.\d+\.\d+\/\d+)/.exec(line);
    if (match?.[1]) cidrs.push(match[1]);
  }
  for (const line of routes.split('\n')) {
    const destination = line
      .trim()
      .split(/\s+/)
      .find((word) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(word));
    if (destination && !line.startsWith('default')) cidrs.push(destination);
  }
  return cidrs;
}
