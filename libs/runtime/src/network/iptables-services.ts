// Services with iptables, for hosts without nft: the same behaviour as the nftables table in
// service-proxy.ts, as kube-proxy's iptables mode does it. A backend is chosen by a cascade of
// `statistic --mode random` rules (1/n, then 1/(n-1), ... then the last one always), so each of n
// backends gets 1/n of new connections. Each sync is one iptables-restore --noflush: declaring a
// chain empties it, so every chain of ours is rewritten in one atomic commit per table.
import { runChecked, runCommand } from './command-runner';
import { formatIpv4, parseIpv4 } from './ipv4';
import type { ServiceRule } from './service-proxy';

export interface IptablesServiceChains {
  dispatch: string;
  refuse: string;
  /** Masquerades marked node-port connections (POSTROUTING). */
  masquerade: string;
  /** The per-service-port chain for the rule at index. */
  service(index: number): string;
  /** Matches every per-service-port chain name, to find stale ones. */
  servicePattern: RegExp;
}

/** Our chain names from the table name; iptables allows 28 characters per chain. */
export function iptablesServiceChains(table: string): IptablesServiceChains {
  const prefix = table.toUpperCase().slice(0, 18);
  return {
    dispatch: `${prefix}-SVC`,
    refuse: `${prefix}-REJ`,
    masquerade: `${prefix}-MASQ`,
    service: (index) => `${prefix}-S${index}`,
    servicePattern: new RegExp(`^-N (${prefix.replace(/[^A-Z0-9_]/g, '')}-S\\d+)$`, 'gm'),
  };
}

const NAT_HOOKS = ['PREROUTING', 'OUTPUT'];
/** kube-proxy's masquerade bit, as in the nftables table. */
const MARK = '0x4000/0x4000';
const FILTER_HOOKS = ['INPUT', 'FORWARD', 'OUTPUT'];

function matches(rule: ServiceRule): string[] {
  const found: string[] = [];
  if (rule.clusterIp !== undefined) {
    found.push(
      `-d ${formatIpv4(parseIpv4(rule.clusterIp))}/32 -p ${rule.protocol} -m ${rule.protocol} --dport ${rule.port}`,
    );
  }
  if (rule.nodePort !== undefined) {
    found.push(
      `-m addrtype --dst-type LOCAL -p ${rule.protocol} -m ${rule.protocol} --dport ${rule.nodePort}`,
    );
  }
  return found;
}

/**
 * iptables-restore input that makes our chains exactly these rules. staleChains (per-service chains
 * of an earlier sync that are no longer needed) are emptied and deleted in the same commit.
 */
export function iptablesServiceRules(
  table: string,
  rules: readonly ServiceRule[],
  staleChains: readonly string[] = [],
): string {
  const chains = iptablesServiceChains(table);
  const nat: string[] = [
    '*nat',
    `:${chains.dispatch} - [0:0]`,
    `:${chains.masquerade} - [0:0]`,
    `-A ${chains.masquerade} -m mark --mark ${MARK} -j MASQUERADE`,
    ...staleChains.map((chain) => `:${chain} - [0:0]`),
  ];
  const natRules: string[] = [];
  const filter: string[] = ['*filter', `:${chains.refuse} - [0:0]`];
  rules.forEach((rule, index) => {
    if (rule.backends.length === 0) {
      const reject = rule.protocol === 'tcp' ? '-j REJECT --reject-with tcp-reset' : '-j REJECT';
      for (const match of matches(rule)) filter.push(`-A ${chains.refuse} ${match} ${reject}`);
      return;
    }
    const chain = chains.service(index);
    nat.push(`:${chain} - [0:0]`);
    for (const match of matches(rule)) {
      // A node-port connection is masqueraded so that a backend on another node answers through us.
      if (match.includes('addrtype'))
        natRules.push(`-A ${chains.dispatch} ${match} -j MARK --set-xmark ${MARK}`);
      natRules.push(`-A ${chains.dispatch} ${match} -j ${chain}`);
    }
    rule.backends.forEach((backend, slot) => {
      const remaining = rule.backends.length - slot;
      const pick =
        remaining > 1 ? `-m statistic --mode random --probability ${(1 / remaining).toFixed(10)} ` : '';
      natRules.push(
        `-A ${chain} -p ${rule.protocol} ${pick}-j DNAT --to-destination ${formatIpv4(parseIpv4(backend.ip))}:${backend.port}`,
      );
    });
  });
  return [
    ...nat,
    ...natRules,
    ...staleChains.map((chain) => `-X ${chain}`),
    'COMMIT',
    ...filter,
    'COMMIT',
    '',
  ].join('\n');
}

export class IptablesServiceRules {
  private readonly chains: IptablesServiceChains;

  constructor(private readonly table: string) {
    this.chains = iptablesServiceChains(table);
  }

  async sync(rules: readonly ServiceRule[]): Promise<void> {
    const existing = await runCommand('iptables', ['-w', '-t', 'nat', '-S']);
    const current = new Set(
      [...existing.stdout.matchAll(this.chains.servicePattern)].map((match) => match[1] ?? ''),
    );
    const wanted = new Set(rules.map((_, index) => this.chains.service(index)));
    const stale = [...current].filter((chain) => chain !== '' && !wanted.has(chain));
    await runChecked(
      `programming ${rules.length} service port(s)`,
      'iptables-restore',
      ['-w', '--noflush'],
      iptablesServiceRules(this.table, rules, stale),
    );
    await this.hook();
  }

  /** Jumps from the built-in chains into ours, added once. */
  private async hook(): Promise<void> {
    const hooks: Array<[string, string, string]> = [
      ...NAT_HOOKS.map((chain): [string, string, string] => ['nat', chain, this.chains.dispatch]),
      ['nat', 'POSTROUTING', this.chains.masquerade],
      ...FILTER_HOOKS.map((chain): [string, string, string] => ['filter', chain, this.chains.refuse]),
    ];
    for (const [table, chain, target] of hooks) {
      const present = await runCommand('iptables', ['-w', '-t', table, '-C', chain, '-j', target]);
      if (present.exitCode !== 0) {
        await runChecked(`hooking ${target} into ${chain}`, 'iptables', [
          '-w',
          '-t',
          table,
          '-I',
          chain,
          '-j',
          target,
        ]);
      }
    }
  }

  async describe(): Promise<string> {
    const nat = await runChecked('listing services', 'iptables', ['-w', '-t', 'nat', '-S']);
    const filter = await runChecked('listing services', 'iptables', [
      '-w',
      '-t',
      'filter',
      '-S',
      this.chains.refuse,
    ]);
    const ours = nat.split('\n').filter((line) => line.includes(this.table.toUpperCase().slice(0, 18)));
    return [...ours, filter].join('\n');
  }

  async remove(): Promise<void> {
    for (const [table, chains, target] of [
      ['nat', NAT_HOOKS, this.chains.dispatch],
      ['nat', ['POSTROUTING'], this.chains.masquerade],
      ['filter', FILTER_HOOKS, this.chains.refuse],
    ] as const) {
      for (const chain of chains) {
        while (
          (await runCommand('iptables', ['-w', '-t', table, '-C', chain, '-j', target])).exitCode === 0
        ) {
          await runChecked(`unhooking ${target}`, 'iptables', ['-w', '-t', table, '-D', chain, '-j', target]);
        }
      }
    }
    const nat = await runCommand('iptables', ['-w', '-t', 'nat', '-S']);
    const perService = [...nat.stdout.matchAll(this.chains.servicePattern)].map((match) => match[1] ?? '');
    const ours: Array<['nat' | 'filter', string]> = [
      ['nat', this.chains.dispatch],
      ['nat', this.chains.masquerade],
      ...perService.map((name): ['nat', string] => ['nat', name]),
      ['filter', this.chains.refuse],
    ];
    // Flush everything before deleting anything: the dispatch chain still jumps to the others.
    for (const action of ['-F', '-X']) {
      for (const [table, chain] of ours) {
        if ((await runCommand('iptables', ['-w', '-t', table, '-S', chain])).exitCode !== 0) continue;
        await runChecked(`${action === '-F' ? 'flushing' : 'deleting'} ${chain}`, 'iptables', [
          '-w',
          '-t',
          table,
          action,
          chain,
        ]);
      }
    }
  }
}
