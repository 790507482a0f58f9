// `-p [[hostIp:][hostPort]:]containerPort[/tcp|udp]`, as docker run spells it; a host port left out
// (or 0) is a free one chosen when the port is published (see BridgeNetwork.publishPorts).
import { formatIpv4, parseIpv4 } from './ipv4';
import { NetworkError, type PortMapping } from './network.types';

function port(text: string, what: string, spec: string): number {
  const value = Number(text);
  if (!/^\d{1,5}$/.test(text) || value < 1 || value > 65535) {
    throw new NetworkError(`${what} in -p ${JSON.stringify(spec)} must be a port from 1 to 65535`);
  }
  return value;
}

/** A host address in canonical form, or undefined for "every address" (0.0.0.0, as Docker). */
function hostAddress(text: string, spec: string): string | undefined {
  let value: number;
  try {
    value = parseIpv4(text);
  } catch {
    throw new NetworkError(
      `the host address in -p ${JSON.stringify(spec)} must be an IPv4 address of this host, e.g. 127.0.0.1:8080:80`,
    );
  }
  return value === 0 ? undefined : formatIpv4(value);
}

export function parsePortMapping(spec: string): PortMapping {
  const match = /^(?:(?:([^:/]*):)?([^:/]*):)?([^:/]+)(?:\/(tcp|udp))?$/.exec(spec.trim());
  if (!match?.[3] || (match[1] !== undefined && match[1] === '')) {
    throw new NetworkError(
      `-p ${JSON.stringify(spec)} is not [[hostIp:][hostPort]:]containerPort[/tcp|udp], e.g. -p 8080:80, -p 80, -p 127.0.0.1::80 or -p 5353:53/udp`,
    );
  }
  const hostIp = match[1] === undefined ? undefined : hostAddress(match[1], spec);
  const hostPortText = match[2] ?? '';
  return {
    ...(hostIp === undefined ? {} : { hostIp }),
    hostPort: hostPortText === '' || hostPortText === '0' ? 0 : port(hostPortText, 'the host port', spec),
    containerPort: port(match[3], 'the container port', spec),
    protocol: match[4] === 'udp' ? 'udp' : 'tcp',
  };
}

/** Docker's `ExposedPorts` keys ("80/tcp", "53/udp", "8080"): each as a mapping to a free host port. */
export function exposedPortMappings(exposed: readonly string[]): PortMapping[] {
  return exposed.map((key) => {
    const match = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(key.trim());
    if (!match?.[1])
      throw new NetworkError(`the image exposes ${JSON.stringify(key)}, which is not PORT[/tcp|udp]`);
    return {
      hostPort: 0,
      containerPort: port(match[1], 'the exposed port', key),
      protocol: match[2] === 'udp' ? 'udp' : 'tcp',
    };
  });
}

/** True when the two would take the same traffic: one port and protocol, and an address in common. */
export function portsOverlap(a: PortMapping, b: PortMapping): boolean {
  return (
    a.hostPort !== 0 &&
    a.hostPort === b.hostPort &&
    a.protocol === b.protocol &&
    (a.hostIp === undefined || b.hostIp === undefined || a.hostIp === b.hostIp)
  );
}

/** Rejects two mappings of one host port and protocol: the second would silently win or fail half-way. */
export function checkPortConflicts(mappings: readonly PortMapping[]): void {
  mappings.forEach((mapping, index) => {
    const earlier = mappings.slice(0, index).find((other) => portsOverlap(other, mapping));
    if (earlier !== undefined) {
      throw new NetworkError(
        `host port ${formatPortMapping(mapping)} overlaps ${formatPortMapping(earlier)}; publish each host port (and address) once`,
      );
    }
  });
}

export function formatPortMapping(mapping: PortMapping): string {
  const address = mapping.hostIp === undefined ? '' : `${mapping.hostIp}:`;
  return `${address}${mapping.hostPort}:${mapping.containerPort}/${mapping.protocol}`;
}
