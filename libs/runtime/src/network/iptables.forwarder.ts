// Port forwarding with iptables for hosts without nft: the same rules as the nftables table, in chains
// of our own hooked into the built-in ones, changed through iptables-restore --noflush so each change
// is one process and one atomic commit.
import { formatSubnet } from './ipv4';
import { runChecked, runCommand } from './command-runner';
import { NetworkError, type PortMapping } from './network.types';
import type { PortForwarder, PortForwarderOptions } from './port-forwarder';
import { formatPortMapping, portsOverlap } from './port-mapping';

export interface IptablesChains {
  dnat: string;
  postrouting: string;
  forward: string;
}

/** Our chain names; iptables allows 28 characters, so the prefix is kept short by the caller. */
export function iptablesChains(table: string): IptablesChains {
  const prefix = table.toUpperCase().slice(0, 20);
  return { dnat: `${prefix}-DNAT`, postrouting: `${prefix}-POST`, forward: `${prefix}-FWD` };
}

/** The jumps from the built-in chains into ours, as iptables rule specs. */
function hooks(chains: IptablesChains): { nat: string[]; filter: string[] } {
  return {
    nat: [
      `PREROUTING -m addrtype --dst-type LOCAL -j ${chains.dnat}`,
      `OUTPUT -m addrtype --dst-type LOCAL -j ${chains.dnat}`,
      `POSTROUTING -j ${chains.postrouting}`,
    ],
    filter: [`FORWARD -j ${chains.forward}`],
  };
}

/** iptables-restore input that creates our chains and hooks (mirrors bridgeRuleset in nft-ruleset.ts). */
export function iptablesBaseRules(options: PortForwarderOptions): string {
  const chains = iptablesChains(options.table);
  const subnet = formatSubnet(options.subnet);
  const cluster = formatSubnet(options.clusterCidr ?? options.subnet);
  const jumps = hooks(chains);
  return [
    '*nat',
    `:${chains.dnat} - [0:0]`,
    `:${chains.postrouting} - [0:0]`,
    `-A ${chains.postrouting} -o ${options.bridge} -s 127.0.0.0/8 -j MASQUERADE`,
    `-A ${chains.postrouting} -o ${options.bridge} -s ${subnet} -d ${subnet} -m conntrack --ctstate DNAT -j MASQUERADE`,
    ...jumps.nat.map((rule) => `-A ${rule}`),
    'COMMIT',
    '*filter',
    `:${chains.forward} - [0:0]`,
    // Replies to connections opened towards a container, as in the nftables table.
    `-A ${chains.forward} -i ${options.bridge} -m conntrack --ctdir REPLY -j ACCEPT`,
    `-A ${chains.forward} -i ${options.bridge} ! -d ${cluster} -j DROP`,
    ...jumps.filter.map((rule) => `-A ${rule}`),
    'COMMIT',
    '',
  ].join('\n');
}

function dnatRule(chain: string, mapping: PortMapping, containerIp: string): string {
  const address = mapping.hostIp === undefined ? '' : `-d ${mapping.hostIp}/32 `;
  return `${chain} ${address}-p ${mapping.protocol} -m ${mapping.protocol} --dport ${mapping.hostPort} -j DNAT --to-destination ${containerIp}:${mapping.containerPort}`;
}

export function iptablesPortRules(
  table: string,
  action: '-A' | '-D',
  mappings: readonly PortMapping[],
  containerIp: string,
): string {
  const { dnat } = iptablesChains(table);
  return [
    '*nat',
    ...mappings.map((mapping) => `${action} ${dnatRule(dnat, mapping, containerIp)}`),
    'COMMIT',
    '',
  ].join('\n');
}

export class IptablesForwarder implements PortForwarder {
  readonly kind = 'iptables' as const;
  private readonly chains: IptablesChains;

  constructor(private readonly options: PortForwarderOptions) {
    this.chains = iptablesChains(options.table);
  }

  async ensure(): Promise<void> {
    const existing = await runCommand('iptables', ['-w', '-t', 'nat', '-S', this.chains.dnat]);
    if (existing.exitCode === 0) return;
    await runChecked(
      `creating iptables chains ${this.chains.dnat}`,
      'iptables-restore',
      ['-w', '--noflush'],
      iptablesBaseRules(this.options),
    );
  }

  async publish(mappings: readonly PortMapping[], containerIp: string): Promise<void> {
    if (mappings.length === 0) return;
    // iptables happily holds two DNATs for one port (the first wins), so check what is there first.
    const taken = this.published(await this.describe());
    const clash = mappings.find((mapping) => taken.some((other) => portsOverlap(other, mapping)));
    if (clash) {
      throw new NetworkError(
        `host port ${formatPortMapping(clash)} is already published by another container; pick a free host port`,
      );
    }
    await runChecked(
      `publishing ${mappings.map(formatPortMapping).join(', ')}`,
      'iptables-restore',
      ['-w', '--noflush'],
      iptablesPortRules(this.options.table, '-A', mappings, containerIp),
    );
  }

  async unpublish(mappings: readonly PortMapping[], containerIp: string): Promise<void> {
    for (const mapping of mappings) {
      // -C first: deleting a rule that is not there fails, and a gone rule is what we want anyway.
      const rule = dnatRule(this.chains.dnat, mapping, containerIp).split(' ');
      const present = await runCommand('iptables', ['-w', '-t', 'nat', '-C', ...rule]);
      if (present.exitCode !== 0) continue;
      await runChecked(`unpublishing ${formatPortMapping(mapping)}`, 'iptables', [
        '-w',
        '-t',
        'nat',
        '-D',
        ...rule,
      ]);
    }
  }

  describe(): Promise<string> {
    return runChecked('listing published ports', 'iptables', ['-w', '-t', 'nat', '-S', this.chains.dnat]);
  }

  private published(listing: string): PortMapping[] {
    const mappings: PortMapping[] = [];
    for (const match of listing.matchAll(
      /(?:-d (\d+\.\d+\.\d+\.\d+)\/32 )?-p (tcp|udp) .*?--dport (\d+) .*?--to-destination [\d.]+:(\d+)/g,
    )) {
      mappings.push({
        ...(match[1] === undefined ? {} : { hostIp: match[1] }),
        protocol: match[2] === 'udp' ? 'udp' : 'tcp',
        hostPort: Number(match[3]),
        containerPort: Number(match[4]),
      });
    }
    return mappings;
  }

  async remove(): Promise<void> {
    const jumps = hooks(this.chains);
    for (const [table, rules] of [
      ['nat', jumps.nat],
      ['filter', jumps.filter],
    ] as const) {
      for (const rule of rules) {
        const spec = rule.split(' ');
        while ((await runCommand('iptables', ['-w', '-t', table, '-C', ...spec])).exitCode === 0) {
          await runChecked(`unhooking ${spec.at(-1) ?? ''}`, 'iptables', ['-w', '-t', table, '-D', ...spec]);
        }
      }
    }
    for (const [table, chain] of [
      ['nat', this.chains.dnat],
      ['nat', this.chains.postrouting],
      ['filter', this.chains.forward],
    ] as const) {
      if ((await runCommand('iptables', ['-w', '-t', table, '-S', chain])).exitCode !== 0) continue;
      await runChecked(`flushing ${chain}`, 'iptables', ['-w', '-t', table, '-F', chain]);
      await runChecked(`deleting ${chain}`, 'iptables', ['-w', '-t', table, '-X', chain]);
    }
  }
}
