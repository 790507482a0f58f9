// `flotilla container port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports with the
// host ports actually chosen, printed as `docker port` prints them.
import { Command } from 'commander';
import type { ContainerInfo, PublishedPort } from '@flotilla/runtime';
import { CliError, EXIT_USAGE, type CliContext } from '../../cli-context';
import { openContainerManager } from './container-runtime';

/** What is published now: the attachment's ports (chosen host ports), else the spec's. */
export function publishedPorts(info: ContainerInfo): readonly PublishedPort[] {
  return info.network?.ports ?? info.spec.ports ?? [];
}

function hostSide(port: PublishedPort): string {
  return `${port.hostIp ?? '0.0.0.0'}:${port.hostPort}`;
}

/** `docker ps`' PORTS: "0.0.0.0:32768->80/tcp", or "80/tcp" for a port not (yet) given a host port. */
export function formatPortsColumn(ports: readonly PublishedPort[]): string {
  return ports
    .map((port) =>
      port.hostPort === 0
        ? `${port.containerPort}/${port.protocol}`
        : `${hostSide(port)}->${port.containerPort}/${port.protocol}`,
    )
    .join(', ');
}

/**
 * `docker port`'s lines: "80/tcp -> 0.0.0.0:32768" for every port, or just "0.0.0.0:32768" for the
 * one asked for (PORT alone means PORT/tcp). Undefined when the port asked for is not published.
 */
export function formatPortLines(ports: readonly PublishedPort[], privatePort?: string): string[] | undefined {
  const bound = ports.filter((port) => port.hostPort !== 0);
  if (privatePort === undefined) {
    return bound.map((port) => `${port.containerPort}/${port.protocol} -> ${hostSide(port)}`);
  }
  const match = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(privatePort);
  if (!match) {
    throw new CliError(`"${privatePort}" is not PRIVATE_PORT[/tcp|udp], e.g. 80 or 53/udp`, EXIT_USAGE);
  }
  const containerPort = Number(match[1]);
  const protocol = match[2] ?? 'tcp';
  const found = bound.filter((port) => port.containerPort === containerPort && port.protocol === protocol);
  return found.length === 0 ? undefined : found.map(hostSide);
}

export function createPortCommand(context: CliContext): Command {
  return new Command('port')
    .description("list a container's published ports, or the host address of one")
    .argument('<container>', 'name or id')
    .argument('[privatePort]', 'PRIVATE_PORT[/tcp|udp]')
    .action(async (reference: string, privatePort: string | undefined) => {
      const manager = await openContainerManager(context);
      const info = await manager.inspect(reference);
      const lines = formatPortLines(publishedPorts(info), privatePort);
      if (lines === undefined) {
        throw new CliError(`no public port '${privatePort ?? ''}' published for ${info.name}`);
      }
      context.io.write(lines.map((line) => `${line}\n`).join(''));
    });
}
