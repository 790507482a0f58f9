// `-p hostPort:containerPort[/tcp|udp]`, as docker run spells it.
import { NetworkError, type PortMapping } from './network.types';

function port(text: string, what: string, spec: string): number {
  const value = Number(text);
  if (!/^\d{1,5}$/.test(text) || value < 1 || value > 65535) {
    throw new NetworkError(`${what} in -p ${JSON.stringify(spec)} must be a port from 1 to 65535`);
  }
  return value;
}

export function parsePortMapping(spec: string): PortMapping {
  const match = /^([^:/]+):([^:/]+)(?:\/(tcp|udp))?$/.exec(spec.trim());
  if (!match?.[1] || !match[2]) {
    throw new NetworkError(
      `-p ${JSON.stringify(spec)} is not hostPort:containerPort[/tcp|udp], e.g. -p 8080:80 or -p 5353:53/udp`,
    );
  }
  return {
    hostPort: port(match[1], 'the host port', spec),
    containerPort: port(match[2], 'the container port', spec),
    protocol: match[3] === 'udp' ? 'udp' : 'tcp',
  };
}

/** Rejects two mappings of one host port and protocol: the second would silently win or fail half-way. */
export function checkPortConflicts(mappings: readonly PortMapping[]): void {
  const seen = new Set<string>();
  for (const mapping of mappings) {
    const key = `${mapping.hostPort}/${mapping.protocol}`;
    if (seen.has(key))
      throw new NetworkError(`host port ${key} is published twice; publish each host port once`);
    seen.add(key);
  }
}

export function formatPortMapping(mapping: PortMapping): string {
  return `${mapping.hostPort}:${mapping.containerPort}/${mapping.protocol}`;
}
