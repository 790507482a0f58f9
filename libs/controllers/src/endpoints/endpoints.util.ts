// What a Service's Endpoints should say, from the pods its selector matches, as Kubernetes' endpoints
// controller computes it: a pod with an IP and not terminating is an address, ready or not ready
// (publishNotReadyAddresses makes every one ready); each service port resolves its targetPort on the
// pod (a number, or a named container port, which may differ pod by pod), and pods that resolve to
// the same ports share a subset. Output is sorted so an unchanged set compares equal.
//
// Worked example: Service web, ports [{name: http, port: 80, targetPort: "http"}]; pods a (ready,
// 10.244.0.2, container port http=8080), b (not ready, 10.244.1.2, http=8080), c (ready, no IP yet)
// → subsets [{addresses: [a], notReadyAddresses: [b], ports: [{name: http, port: 8080, protocol: TCP}]}];
// c is left out until it has an IP.
import type { EndpointAddress, EndpointPort, EndpointSubset, Pod, Service, ServicePort } from '@flotilla/api';

function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some(
    (condition) => condition.type === 'Ready' && condition.status === 'True',
  );
}

/** The pod's port a service port sends to, or undefined when the pod has no such named port. */
export function resolveTargetPort(servicePort: ServicePort, pod: Pod): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = servicePort.protocol ?? 'TCP';
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.name === target && (port.protocol ?? 'TCP') === protocol) return port.containerPort;
    }
  }
  return undefined;
}

function addressOf(pod: Pod): EndpointAddress {
  const address: EndpointAddress = {
    ip: pod.status?.podIP ?? '',
    targetRef: {
      kind: 'Pod',
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      uid: pod.metadata.uid ?? '',
    },
  };
  if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
  return address;
}

const byIp = (a: EndpointAddress, b: EndpointAddress): number =>
  a.ip === b.ip ? 0 : ipKey(a.ip) < ipKey(b.ip) ? -1 : 1;

/** Dotted quads compare numerically ("10.0.0.9" before "10.0.0.10"). */
function ipKey(ip: string): string {
  return ip
    .split('.')
    .map((part) => part.padStart(3, '0'))
    .join('.');
}

export function endpointSubsets(service: Service, pods: readonly Pod[]): EndpointSubset[] {
  const servicePorts = service.spec?.ports ?? [];
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const subsets = new Map<
    string,
    { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }
  >();
  for (const pod of pods) {
    if (!pod.status?.podIP || pod.metadata.deletionTimestamp) continue;
    if (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') continue;
    const ports: EndpointPort[] = [];
    for (const servicePort of servicePorts) {
      const port = resolveTargetPort(servicePort, pod);
      if (port === undefined) continue;
      const endpointPort: EndpointPort = { port, protocol: servicePort.protocol ?? 'TCP' };
      if (servicePort.name) endpointPort.name = servicePort.name;
      if (servicePort.appProtocol) endpointPort.appProtocol = servicePort.appProtocol;
      ports.push(endpointPort);
    }
    // A service with ports none of which this pod has gets no address from it (Kubernetes skips it).
    if (servicePorts.length > 0 && ports.length === 0) continue;
    ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
    const key = JSON.stringify(ports);
    const subset = subsets.get(key) ?? { ports, ready: [], notReady: [] };
    subsets.set(key, subset);
    (publishNotReady || isPodReady(pod) ? subset.ready : subset.notReady).push(addressOf(pod));
  }
  return [...subsets.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, subset]) => {
      const out: EndpointSubset = {};
      if (subset.ready.length > 0) out.addresses = subset.ready.sort(byIp);
      if (subset.notReady.length > 0) out.notReadyAddresses = subset.notReady.sort(byIp);
      if (subset.ports.length > 0) out.ports = subset.ports;
      return out;
    });
}
