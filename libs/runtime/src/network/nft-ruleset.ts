// The nftables rules of one bridge network, in a table of its own so nothing else on the host is
// touched and removing the table removes everything. Published ports are elements of one map, so
// publishing and unpublishing is adding and deleting elements: no rule handles to track.
import { formatSubnet } from './ipv4';
import type { PortMapping } from './network.types';
import type { PortForwarderOptions } from './port-forwarder';

export const PORTS_MAP = 'published_ports';
/** Ports published on one address of the host (-p hostIp:hostPort:containerPort); looked up first. */
export const ADDRESS_PORTS_MAP = 'published_address_ports';

const ADDRESS_PORTS_MAP_TYPE = 'type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service';
const ADDRESS_DNAT = `fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @${ADDRESS_PORTS_MAP}`;

/**
 * What a table made before address-bound ports existed lacks, added in one transaction: the map and
 * its lookups in front of the any-address ones.
 */
export function addressPortsUpgrade(table: string): string {
  return [
    `add map ip ${table} ${ADDRESS_PORTS_MAP} { ${ADDRESS_PORTS_MAP_TYPE}; }`,
    `insert rule ip ${table} prerouting ${ADDRESS_DNAT}`,
    `insert rule ip ${table} output ${ADDRESS_DNAT}`,
    '',
  ].join('\n');
}

/**
 * Replies of connections opened towards a container (a published port, a Service's node port, a
 * node reaching a cluster IP) go back to whoever opened them, wherever that is; a container still
 * cannot open anything outside the pod range.
 */
const REPLY_ACCEPT = (bridge: string): string => `iifname ${bridge} ct direction reply accept`;

/** Adds the reply rule to a table created before it existed (agents upgraded in place). */
export function replyForwardUpgrade(table: string, bridge: string): string {
  return `insert rule ip ${table} forward ${REPLY_ACCEPT(JSON.stringify(bridge))}\n`;
}

/**
 * The whole table. DNAT applies to traffic addressed to this host (any local address, 127.0.0.1
 * included) arriving from outside or from containers (prerouting) and sent by the host itself (output).
 * Masquerade is confined to our bridge: loopback-sourced traffic DNATed onto it (route_localnet), and
 * container-to-container hairpin through a published port. Nothing is ever NATed or forwarded towards
 * another interface: traffic from the bridge to addresses outside the cluster's pod range (our subnet
 * unless routes to peer nodes widen it) is not forwarded at all, replies to connections opened from
 * there excepted.
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
    `  map ${ADDRESS_PORTS_MAP} {`,
    `    ${ADDRESS_PORTS_MAP_TYPE}`,
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    `    ${ADDRESS_DNAT}`,
    `    fib daddr type local dnat ip to meta l4proto . th dport map @${PORTS_MAP}`,
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    `    ${ADDRESS_DNAT}`,
    `    fib daddr type local dnat ip to meta l4proto . th dport map @${PORTS_MAP}`,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority 100; policy accept;',
    `    oifname ${bridge} ip saddr 127.0.0.0/8 masquerade`,
    `    oifname ${bridge} ip saddr ${subnet} ip daddr ${subnet} ct status dnat masquerade`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    `    ${REPLY_ACCEPT(bridge)}`,
    `    iifname ${bridge} ip daddr != ${cluster} drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

function element(mapping: PortMapping, containerIp?: string): string {
  const address = mapping.hostIp === undefined ? '' : `${mapping.hostIp} . `;
  const key = `${address}${mapping.protocol} . ${mapping.hostPort}`;
  return containerIp === undefined ? key : `${key} : ${containerIp} . ${mapping.containerPort}`;
}

/** One command per map that has elements: any-address ports and address-bound ports. */
function elementsCommand(
  verb: 'add' | 'delete',
  table: string,
  mappings: readonly PortMapping[],
  containerIp?: string,
): string {
  const byMap: Array<[string, PortMapping[]]> = [
    [PORTS_MAP, mappings.filter((mapping) => mapping.hostIp === undefined)],
    [ADDRESS_PORTS_MAP, mappings.filter((mapping) => mapping.hostIp !== undefined)],
  ];
  return byMap
    .filter(([, members]) => members.length > 0)
    .map(
      ([map, members]) =>
        `${verb} element ip ${table} ${map} { ${members.map((mapping) => element(mapping, containerIp)).join(', ')} }\n`,
    )
    .join('');
}

export function addPortsCommand(
  table: string,
  mappings: readonly PortMapping[],
  containerIp: string,
): string {
  return elementsCommand('add', table, mappings, containerIp);
}

export function deletePortsCommand(table: string, mappings: readonly PortMapping[]): string {
  return elementsCommand('delete', table, mappings);
}
