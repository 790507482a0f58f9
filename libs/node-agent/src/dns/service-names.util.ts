// What the cluster DNS says about one Service, from the Service and its Endpoints as the agent holds
// them (the objects the apiserver streams to every node).
//
// Worked example: Service shop/web {clusterIP 10.96.0.12, ports [{name http, port 80, targetPort
// http}]} with Endpoints {subsets [{addresses [10.88.1.5], notReadyAddresses [10.88.2.6], ports
// [{name http, port 8080}]}]} gives {clusterIP 10.96.0.12, ready [10.88.1.5], ports [{http 80 TCP}]}:
// a ClusterIP service is reached on its own port, so its SRV record carries 80. The same Service
// headless (clusterIP None) gives ports [{http 8080 TCP, addresses [10.88.1.5]}]: clients connect to
// the endpoints, so the SRV record carries the endpoints' port.
import type { Endpoints, Service } from '@flotilla/api';
import type { ServiceNames, ServicePortName } from './cluster-names.types';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function protocolOf(value: string | undefined): ServicePortName['protocol'] {
  return value === 'UDP' || value === 'SCTP' ? value : 'TCP';
}

/**
 * Undefined for an ExternalName service: its answer would be a CNAME, which this server does not
 * give, and NXDOMAIN is better than an A record pointing nowhere.
 */
export function serviceNamesOf(service: Service, endpoints: Endpoints | undefined): ServiceNames | undefined {
  const spec = service.spec ?? {};
  if (spec.type === 'ExternalName') return undefined;
  const clusterIP = spec.clusterIP;
  const isHeadless = clusterIP === undefined || clusterIP === '' || clusterIP === 'None';
  // A headless service that publishes not-ready addresses (StatefulSet peers finding each other
  // before they are Ready) names them too, as CoreDNS does.
  const includeNotReady = isHeadless && spec.publishNotReadyAddresses === true;
  const ready: string[] = [];
  const portAddresses = new Map<string, { port: ServicePortName; addresses: string[] }>();
  for (const subset of endpoints?.subsets ?? []) {
    const addresses = [
      ...(subset.addresses ?? []),
      ...(includeNotReady ? (subset.notReadyAddresses ?? []) : []),
    ]
      .map((address) => address.ip)
      .filter((ip) => IPV4.test(ip));
    for (const ip of addresses) if (!ready.includes(ip)) ready.push(ip);
    for (const port of subset.ports ?? []) {
      if (port.name === undefined || port.name === '') continue;
      const protocol = protocolOf(port.protocol);
      const key = `${port.name}/${protocol}/${port.port}`;
      const entry = portAddresses.get(key) ?? {
        port: { name: port.name, port: port.port, protocol },
        addresses: [],
      };
      for (const ip of addresses) if (!entry.addresses.includes(ip)) entry.addresses.push(ip);
      portAddresses.set(key, entry);
    }
  }
  if (isHeadless) {
    return {
      ready,
      ports: [...portAddresses.values()]
        .filter((entry) => entry.addresses.length > 0)
        .map((entry) => ({ ...entry.port, addresses: entry.addresses })),
    };
  }
  return {
    clusterIP,
    ready,
    ports: (spec.ports ?? [])
      .filter((port) => port.name !== undefined && port.name !== '')
      .map((port) => ({ name: port.name ?? '', port: port.port, protocol: protocolOf(port.protocol) })),
  };
}
