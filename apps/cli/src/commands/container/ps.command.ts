// `flotilla container ps [-a] [-q]`: containers on this node, as docker ps shows them.
import { Command } from 'commander';
import type { ContainerInfo } from '@flotilla/runtime';
import type { CliContext } from '../../cli-context';
import { collect } from './container-flags';
import { filterWantsAll, matchesFilter, parseContainerFilters } from './container-filter';
import { formatPortsColumn, publishedPorts } from './port.command';
import { formatTable, humanDuration, openContainerManager, shortId } from './container-runtime';

export function describeStatus(info: ContainerInfo, now: Date): string {
  const state = info.state;
  if (state.status === 'running') {
    const since = state.startedAt ? Date.parse(state.startedAt) : now.getTime();
    return `Up ${humanDuration(now.getTime() - since)}`;
  }
  if (state.status === 'stopped') {
    const finished = state.exit?.finishedAt ? Date.parse(state.exit.finishedAt) : NaN;
    const ago = Number.isNaN(finished) ? '' : ` ${humanDuration(now.getTime() - finished)} ago`;
    return `Exited (${state.exit?.exitCode ?? '?'})${ago}`;
  }
  return state.status === 'created' ? 'Created' : 'Removed';
}

function quoteCommand(args: readonly string[]): string {
  const text = args.join(' ');
  return `"${text.length > 20 ? `${text.slice(0, 19)}…` : text}"`;
}

export function createPsCommand(context: CliContext): Command {
  return new Command('ps')
    .alias('ls')
    .description('list containers (running ones unless -a)')
    .option('-a, --all', 'include created and stopped containers')
    .option('-q, --quiet', 'only print ids')
    .option(
      '-f, --filter <KEY=VALUE>',
      'label=KEY[=VALUE], name=NAME or status=created|running|exited (repeatable)',
      collect,
    )
    .action(async (flags: { all?: boolean; quiet?: boolean; filter?: string[] }) => {
      const filter = parseContainerFilters(flags.filter ?? []);
      const manager = await openContainerManager(context);
      const containers = (await manager.list({ all: (flags.all ?? false) || filterWantsAll(filter) })).filter(
        (info) => matchesFilter(info, filter),
      );
      if (flags.quiet) {
        context.io.write(containers.map((info) => `${shortId(info.id)}\n`).join(''));
        return;
      }
      const now = context.io.now();
      const rows = containers.map((info) => [
        shortId(info.id),
        info.spec.rootfsDir !== undefined ? `(rootfs) ${info.image}` : info.image,
        quoteCommand(info.process.args),
        `${humanDuration(now.getTime() - Date.parse(info.createdAt))} ago`,
        describeStatus(info, now),
        formatPortsColumn(publishedPorts(info)),
        info.name,
      ]);
      context.io.write(
        formatTable([['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], ...rows]),
      );
    });
}
