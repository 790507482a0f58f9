// Services and their Endpoints turned into the kernel rules of one node, as kube-proxy reads them:
// one rule per service port, matched on the cluster IP (and the node port on every local address for
// NodePort/LoadBalancer), DNATed to the ready addresses of the Endpoints with the port of the
// Endpoints port that carries the service port's name (the endpoints controller has already resolved
// named target ports per pod, so one service port can land on different numbers per subset).
// Headless and ExternalName Services get no rules (names only); a Service without ready endpoints
// gets a rule with no backends, which the proxy turns into an immediate refusal.
//
// Worked example: Service shop/web {clusterIP 10.96.0.10, type NodePort, ports [{name http, port 80,
// nodePort 30080}]} with Endpoints subsets [{addresses [10.244.1.5], notReadyAddresses [10.244.2.7],
// ports [{name http, port 8080}]}] gives one rule {name "shop/web:http", tcp, 10.96.0.10:80, node port
// 30080, backends [10.244.1.5:8080]}: the not-ready pod is out of the rotation.
import type { Endpoints, Service } from '@flotilla/api';
import type { ServiceBackend, ServiceRule } from '@flotilla/runtime';

export interface ServiceRulesResult {
  rules: ServiceRule[];
  /** Service ports left out, each with why (shown in the agent's log). */
  skipped: string[];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isHeadless(service: Service): boolean {
  const ip = service.spec?.clusterIP;
  return ip === undefined || ip === '' || ip === 'None';
}

function validPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** The ready backends of one service port: every subset's ready addresses with its matching port. */
export function backendsFor(
  endpoints: Endpoints | undefined,
  port: { name?: string; protocol?: string },
): ServiceBackend[] {
  const backends: ServiceBackend[] = [];
  const seen = new Set<string>();
  const name = port.name ?? '';
  const protocol = port.protocol ?? 'TCP';
  for (const subset of endpoints?.subsets ?? []) {
    const match = (subset.ports ?? []).find(
      (candidate) => (candidate.name ?? '') === name && (candidate.protocol ?? 'TCP') === protocol,
    );
    if (!match || !validPort(match.port)) continue;
    for (const address of subset.addresses ?? []) {
      if (!IPV4.test(address.ip)) continue;
      const key = `${address.ip}:${match.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      backends.push({ ip: address.ip, port: match.port });
    }
  }
  return backends;
}

/**
 * The whole rule set for these Services. `endpoints` is keyed "namespace/name". Rules come out sorted
 * by name so that the same state always yields the same ruleset.
 */
export function serviceRules(
  services: Iterable<Service>,
  endpoints: ReadonlyMap<string, Endpoints>,
): ServiceRulesResult {
  const rules: ServiceRule[] = [];
  const skipped: string[] = [];
  const virtualKeys = new Set<string>();
  const nodeKeys = new Set<string>();
  for (const service of services) {
    const namespace = service.metadata.namespace ?? '';
    const serviceName = service.metadata.name ?? '';
    const spec = service.spec ?? {};
    if (spec.type === 'ExternalName' || isHeadless(service)) continue;
    const clusterIp = spec.clusterIP ?? '';
    if (!IPV4.test(clusterIp)) {
      skipped.push(`${namespace}/${serviceName}: cluster IP "${clusterIp}" is not an IPv4 address`);
      continue;
    }
    const withNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const serviceEndpoints = endpoints.get(`${namespace}/${serviceName}`);
    for (const port of spec.ports ?? []) {
      const name = `${namespace}/${serviceName}:${port.name || String(port.port)}`;
      const protocol =
        port.protocol === 'UDP' ? 'udp' : (port.protocol ?? 'TCP') === 'TCP' ? 'tcp' : undefined;
      if (protocol === undefined) {
        skipped.push(`${name}: protocol ${port.protocol ?? ''} is not programmed (TCP and UDP only)`);
        continue;
      }
      if (!validPort(port.port)) {
        skipped.push(`${name}: port ${String(port.port)} is not a port number`);
        continue;
      }
      const nodePort = withNodePorts && validPort(port.nodePort) ? port.nodePort : undefined;
      // The apiserver never hands out one IP:port or node port twice; a second claimant (stale state
      // during a change) is left out rather than failing the whole set.
      const virtualKey = `${clusterIp}:${port.port}/${protocol}`;
      if (virtualKeys.has(virtualKey)) {
        skipped.push(`${name}: ${virtualKey} is already programmed for another service`);
        continue;
      }
      const nodeKey = nodePort === undefined ? undefined : `${nodePort}/${protocol}`;
      if (nodeKey !== undefined && nodeKeys.has(nodeKey)) {
        skipped.push(`${name}: node port ${nodeKey} is already programmed for another service`);
        continue;
      }
      virtualKeys.add(virtualKey);
      if (nodeKey !== undefined) nodeKeys.add(nodeKey);
      rules.push({
        name,
        protocol,
        clusterIp,
        port: port.port,
        ...(nodePort !== undefined ? { nodePort } : {}),
        backends: backendsFor(serviceEndpoints, port),
      });
    }
  }
  rules.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { rules, skipped };
}
