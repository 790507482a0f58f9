// The nftables rules of one bridge network, in a table of its own so nothing else on the host is
// touched and removing the table removes everything. Published ports are elements of one map, so
// publishing and unpublishing is adding and deleting elements: no rule handles to track.
import { formatSubnet } from './ipv4';
import type { PortMapping } from './network.types';
import type { PortForwarderOptions } from './port-forwarder';

export const PORTS_MAP = 'published_ports';

/**
 * The whole table. DNAT applies to traffic addressed to this host (any local address, 127.0.0.1
 * included) arriving from outside or from containers (prerouting) and sent by the host itself (output).
 * Masquerade is confined to our bridge: loopback-sourced traffic DNATed onto it (route_localnet), and
 * container-to-container hairpin through a published port. Nothing is ever NATed or forwarded towards
 * another interface: traffic from the bridge to addresses outside the cluster's pod range (our subnet
 * unless routes to peer nodes widen it) is not forwarded at all.
 */
export function bridgeRuleset(options: PortForwarderOptions): string {
  const subnet = formatSubnet(options.subnet);
  const cluster = formatSubnet(options.clusterCidr ?? options.subnet);
  const bridge = JSON.stringify(options.bridge);
  return [
    `table ip ${options.table} {`,
    `  map ${PORTS_MAP} {`,
    '    type inet_proto . inet_service : ipv4_addr . inet_service',
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    `    fib daddr type local dnat ip to meta l4proto . th dport map @${PORTS_MAP}`,
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    `    fib daddr type local dnat ip to meta l4proto . th dport map @${PORTS_MAP}`,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority 100; policy accept;',
    `    oifname ${bridge} ip saddr 127.0.0.0/8 masquerade`,
    `    oifname ${bridge} ip saddr ${subnet} ip daddr ${subnet} ct status dnat masquerade`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    `    iifname ${bridge} ip daddr != ${cluster} drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

function element(mapping: PortMapping, containerIp?: string): string {
  const key = `${mapping.protocol} . ${mapping.hostPort}`;
  return containerIp === undefined ? key : `${key} : ${containerIp} . ${mapping.containerPort}`;
}

export function addPortsCommand(
  table: string,
  mappings: readonly PortMapping[],
  containerIp: string,
): string {
  return `add element ip ${table} ${PORTS_MAP} { ${mappings.map((mapping) => element(mapping, containerIp)).join(', ')} }\n`;
}

export function deletePortsCommand(table: string, mappings: readonly PortMapping[]): string {
  return `delete element ip ${table} ${PORTS_MAP} { ${mappings.map((mapping) => element(mapping)).join(', ')} }\n`;
}
