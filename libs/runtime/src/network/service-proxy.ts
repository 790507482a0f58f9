// Kubernetes Services in the kernel, kube-proxy's nftables mode in miniature: a virtual IP and/or a
// NodePort per service port, DNATed to one of its ready backends chosen at random per connection.
// The node agent calls sync with the whole desired set; one nft transaction replaces our table, so
// there is never a moment with half the services programmed. Replies find their way back through
// conntrack; hairpin and loopback masquerade come from the bridge network's own table.
import { runChecked, runCommand } from './command-runner';
import { formatIpv4, parseIpv4 } from './ipv4';
import { IptablesServiceRules } from './iptables-services';
import { NetworkError, type PortProtocol } from './network.types';
import { commandOnPath, type FirewallKind } from './port-forwarder';

export interface ServiceBackend {
  ip: string;
  port: number;
}

export interface ServiceRule {
  /** Shown in errors and as the rule's comment, e.g. "web/frontend:http". */
  name: string;
  protocol: PortProtocol;
  /** The virtual IP (ClusterIP); absent for a NodePort-only rule. */
  clusterIp?: string;
  /** The service port on the virtual IP. */
  port: number;
  /** Also answer on this port of every local address. */
  nodePort?: number;
  /** Ready endpoints; none means connections are refused at once, as kube-proxy does. */
  backends: readonly ServiceBackend[];
}

export interface ServiceProxyOptions {
  /** Our nftables table, or the prefix of our iptables chains (default "flotilla_services"). */
  table?: string;
  /** nftables when nft is installed (auto), else iptables. */
  firewall?: FirewallKind | 'auto';
}

/** The packet mark of node-port connections to masquerade (kube-proxy's bit). */
export const MASQUERADE_MARK = '0x00004000';

const TABLE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

function checkPort(value: number, what: string, rule: ServiceRule): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new NetworkError(`service ${rule.name}: ${what} ${String(value)} must be a port from 1 to 65535`);
  }
}

/** Validates the whole set first: a bad rule must not replace a working table. */
function checkRules(rules: readonly ServiceRule[]): void {
  const virtualKeys = new Set<string>();
  const nodeKeys = new Set<string>();
  for (const rule of rules) {
    if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') {
      throw new NetworkError(`service ${rule.name}: protocol must be tcp or udp`);
    }
    if (rule.clusterIp === undefined && rule.nodePort === undefined) {
      throw new NetworkError(
        `service ${rule.name} has neither a cluster IP nor a node port: nothing would reach it`,
      );
    }
    checkPort(rule.port, 'port', rule);
    if (rule.clusterIp !== undefined) {
      parseIpv4(rule.clusterIp);
      const key = `${rule.clusterIp}:${rule.port}/${rule.protocol}`;
      if (virtualKeys.has(key)) throw new NetworkError(`service ${rule.name}: ${key} is programmed twice`);
      virtualKeys.add(key);
    }
    if (rule.nodePort !== undefined) {
      checkPort(rule.nodePort, 'node port', rule);
      const key = `${rule.nodePort}/${rule.protocol}`;
      if (nodeKeys.has(key))
        throw new NetworkError(`service ${rule.name}: node port ${key} is taken by another service`);
      nodeKeys.add(key);
    }
    for (const backend of rule.backends) {
      parseIpv4(backend.ip);
      checkPort(backend.port, 'backend port', rule);
    }
  }
}

/** A comment nft accepts whatever the service is called. */
function comment(rule: ServiceRule): string {
  return `comment "${rule.name.replace(/[^A-Za-z0-9/:._-]/g, '_').slice(0, 120)}"`;
}

/**
 * The whole table as one nft transaction: create-if-missing, delete, define. Each service port gets
 * its own chain that picks a backend with numgen; matches live in one dispatch chain hooked into
 * prerouting (traffic from containers and other hosts) and output (the host itself).
 */
export function serviceRuleset(table: string, rules: readonly ServiceRule[]): string {
  const dispatch: string[] = [];
  const refuse: string[] = [];
  const chains: string[] = [];
  rules.forEach((rule, index) => {
    const chain = `svc_${index}`;
    const matches: string[] = [];
    if (rule.clusterIp !== undefined) {
      matches.push(`ip daddr ${formatIpv4(parseIpv4(rule.clusterIp))} ${rule.protocol} dport ${rule.port}`);
    }
    if (rule.nodePort !== undefined)
      matches.push(`fib daddr type local ${rule.protocol} dport ${rule.nodePort}`);
    if (rule.backends.length === 0) {
      for (const match of matches)
        refuse.push(
          `    ${match} reject ${rule.protocol === 'tcp' ? 'with tcp reset ' : ''}${comment(rule)}`,
        );
      return;
    }
    if (rule.clusterIp !== undefined) {
      dispatch.push(
        `    ip daddr ${formatIpv4(parseIpv4(rule.clusterIp))} ${rule.protocol} dport ${rule.port} jump ${chain} ${comment(rule)}`,
      );
    }
    if (rule.nodePort !== undefined) {
      // Marked for masquerade: a backend on another node must answer through this one, or the
      // client would get its reply from an address it never spoke to (kube-proxy does the same).
      dispatch.push(
        `    fib daddr type local ${rule.protocol} dport ${rule.nodePort} meta mark set meta mark | ${MASQUERADE_MARK} jump ${chain} ${comment(rule)}`,
      );
    }
    const targets = rule.backends.map(
      (backend, slot) => `${slot} : ${formatIpv4(parseIpv4(backend.ip))} . ${backend.port}`,
    );
    chains.push(
      `  chain ${chain} {`,
      `    meta l4proto ${rule.protocol} dnat ip to numgen random mod ${rule.backends.length} map { ${targets.join(', ')} }`,
      '  }',
    );
  });
  return [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  chain services {',
    ...dispatch,
    '  }',
    ...chains,
    // After the bridge network's port DNAT (-100), so a published host port wins over a node port.
    '  chain prerouting {',
    '    type nat hook prerouting priority -90; policy accept;',
    '    jump services',
    '  }',
    '  chain output {',
    '    type nat hook output priority -90; policy accept;',
    '    jump services',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority 110; policy accept;',
    `    meta mark & ${MASQUERADE_MARK} == ${MASQUERADE_MARK} masquerade`,
    '  }',
    '  chain refuse_empty {',
    ...refuse,
    '  }',
    '  chain input {',
    '    type filter hook input priority 0; policy accept;',
    '    jump refuse_empty',
    '  }',
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    '    jump refuse_empty',
    '  }',
    '  chain local_output {',
    '    type filter hook output priority 0; policy accept;',
    '    jump refuse_empty',
    '  }',
    '}',
    '',
  ].join('\n');
}

export class ServiceProxy {
  readonly table: string;
  private readonly firewall: FirewallKind | 'auto';
  private chosen?: Promise<FirewallKind>;

  constructor(options: ServiceProxyOptions = {}) {
    this.table = options.table ?? 'flotilla_services';
    if (!TABLE_NAME_PATTERN.test(this.table)) {
      throw new NetworkError(
        `nftables table ${JSON.stringify(this.table)} must be a letter then letters, digits or "_"`,
      );
    }
    this.firewall = options.firewall ?? 'auto';
  }

  /** The firewall that programs services, chosen once. */
  kind(): Promise<FirewallKind> {
    this.chosen ??= (async (): Promise<FirewallKind> => {
      if (this.firewall !== 'auto') return this.firewall;
      return (await commandOnPath('nft')) ? 'nftables' : 'iptables';
    })();
    return this.chosen;
  }

  /** Makes the kernel's services exactly these rules, atomically. */
  async sync(rules: readonly ServiceRule[]): Promise<void> {
    checkRules(rules);
    if ((await this.kind()) === 'iptables') {
      await new IptablesServiceRules(this.table).sync(rules);
      return;
    }
    await runChecked(
      `programming ${rules.length} service port(s)`,
      'nft',
      ['-f', '-'],
      serviceRuleset(this.table, rules),
    );
  }

  /** Our rules as the firewall lists them, for diagnostics. */
  async describe(): Promise<string> {
    if ((await this.kind()) === 'iptables') return new IptablesServiceRules(this.table).describe();
    return runChecked('listing services', 'nft', ['list', 'table', 'ip', this.table]);
  }

  /** Removes every service rule; rules already gone are fine. */
  async remove(): Promise<void> {
    if ((await this.kind()) === 'iptables') {
      await new IptablesServiceRules(this.table).remove();
      return;
    }
    const result = await runCommand('nft', ['delete', 'table', 'ip', this.table]);
    if (
      result.exitCode !== 0 &&
      (await runCommand('nft', ['list', 'table', 'ip', this.table])).exitCode === 0
    ) {
      throw new NetworkError(`deleting nftables table ${this.table} failed: ${result.stderr.trim()}`);
    }
  }
}
