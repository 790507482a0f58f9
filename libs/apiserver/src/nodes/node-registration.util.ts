// The Node object an agent's Register describes, merged over the stored one as kubelet's
// registration does: the agent owns addresses, capacity, allocatable, nodeInfo, its endpoint and the
// well-known labels; taints, unschedulable, other labels and conditions set by others are kept.
//
// Worked example: node-a registers with InternalIP 10.0.0.2, capacity cpu "2" memory "4Gi",
// agent_endpoint "10.0.0.2:10250", pod range 10.244.3.0/24 → a Node labelled
// kubernetes.io/hostname=node-a, kubernetes.io/os=linux, kubernetes.io/arch=amd64 with
// spec.podCIDR 10.244.3.0/24, status.daemonEndpoints.kubeletEndpoint.Port 10250.
import { isDns1123Subdomain, tryParseQuantity, type Node, type NodeStatus } from '@flotilla/api';
import type { RegisterRequest, Resources } from '@flotilla/proto';

export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
}

const ADDRESS_TYPES = new Set(['Hostname', 'InternalIP', 'ExternalIP', 'InternalDNS', 'ExternalDNS']);

function resourceList(what: string, resources: Resources | undefined): Record<string, string> {
  const list: Record<string, string> = {};
  const entries: Array<[string, string]> = [
    ['cpu', resources?.cpu ?? ''],
    ['memory', resources?.memory ?? ''],
    ['pods', resources?.pods ?? ''],
    ['ephemeral-storage', resources?.ephemeralStorage ?? ''],
  ];
  for (const [name, value] of entries) {
    if (value === '') continue;
    if (!tryParseQuantity(value)) {
      throw new RegistrationError(
        `${what}.${name} "${value}" is not a quantity such as "2", "1500m" or "8Gi"`,
      );
    }
    list[name] = value;
  }
  if (list['cpu'] === undefined || list['memory'] === undefined) {
    throw new RegistrationError(`${what} needs cpu and memory: the agent reads them from its cgroup`);
  }
  return list;
}

function endpointPort(endpoint: string): number {
  const match = /^(?:\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(endpoint);
  const port = match?.[1] === undefined ? Number.NaN : Number(match[1]);
  if (!(port > 0 && port < 65536)) {
    throw new RegistrationError(
      `agent_endpoint "${endpoint}" must be host:port, where the agent serves AgentService`,
    );
  }
  return port;
}

export function nodeFromRegistration(options: {
  request: RegisterRequest;
  podCidr: string;
  live?: Node;
}): Node {
  const { request, podCidr, live } = options;
  const name = request.nodeName;
  const nameProblems = isDns1123Subdomain(name);
  if (nameProblems.length > 0) {
    throw new RegistrationError(`node name "${name}" is invalid: ${nameProblems.join('; ')}`);
  }
  const addresses = request.addresses.map((address) => {
    if (!ADDRESS_TYPES.has(address.type) || address.address === '') {
      throw new RegistrationError(
        `address ${JSON.stringify(address)} needs a type (${[...ADDRESS_TYPES].join(', ')}) and an address`,
      );
    }
    return {
      type: address.type as NonNullable<NodeStatus['addresses']>[number]['type'],
      address: address.address,
    };
  });
  if (!addresses.some((address) => address.type === 'InternalIP')) {
    throw new RegistrationError(
      `node ${name} registered without an InternalIP address: give the agent --node-ip`,
    );
  }
  const info = request.info;
  const hostname = addresses.find((address) => address.type === 'Hostname')?.address ?? name;
  const status: NodeStatus = {
    ...(live?.status ?? {}),
    capacity: resourceList('capacity', request.capacity),
    allocatable: resourceList('allocatable', request.allocatable),
    addresses,
    daemonEndpoints: { kubeletEndpoint: { Port: endpointPort(request.agentEndpoint) } },
    nodeInfo: {
      machineID: info?.machineId ?? '',
      systemUUID: info?.machineId ?? '',
      bootID: info?.bootId ?? '',
      kernelVersion: info?.kernelVersion ?? '',
      osImage: info?.osImage ?? '',
      containerRuntimeVersion: info?.containerRuntimeVersion ?? '',
      kubeletVersion: info?.agentVersion ?? '',
      kubeProxyVersion: '',
      operatingSystem: info?.operatingSystem || 'linux',
      architecture: info?.architecture || 'amd64',
    },
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      ...(live?.metadata ?? {}),
      name,
      labels: {
        ...(live?.metadata.labels ?? {}),
        ...request.labels,
        'kubernetes.io/hostname': hostname,
        'kubernetes.io/os': status.nodeInfo?.operatingSystem ?? 'linux',
        'kubernetes.io/arch': status.nodeInfo?.architecture ?? 'amd64',
      },
    },
    spec: { ...(live?.spec ?? {}), podCIDR: podCidr, podCIDRs: [podCidr] },
    status,
  };
}
