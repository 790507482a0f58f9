// `flotilla container logs [-f] [--tail N] [--since T] [-t] CONTAINER`: the container's output,
// readable after it exits.
import { Command } from 'commander';
import { CliError, EXIT_USAGE, parseDuration, type CliContext } from '../../cli-context';
import { openContainerManager } from './container-runtime';

interface LogsFlags {
  follow?: boolean;
  tail?: string;
  since?: string;
  timestamps?: boolean;
}

/** --since: an RFC 3339 time, or a duration back from now (10m, 1h30m). */
export function parseSince(text: string, now: Date): Date {
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    const time = new Date(text);
    if (Number.isNaN(time.getTime())) throw new CliError(`--since "${text}" is not a valid time`, EXIT_USAGE);
    return time;
  }
  return new Date(now.getTime() - parseDuration(text, '--since'));
}

export function parseTail(text: string): number | undefined {
  if (text === 'all') return undefined;
  if (!/^\d+$/.test(text))
    throw new CliError(`--tail "${text}" must be a number of lines or "all"`, EXIT_USAGE);
  return Number(text);
}

export function createLogsCommand(context: CliContext): Command {
  return new Command('logs')
    .description("print a container's output")
    .argument('<container>', 'name or id')
    .option('-f, --follow', 'keep printing new output until the container stops')
    .option('--tail <lines>', 'only the last N lines ("all" for every line)', 'all')
    .option('--since <time>', 'only output since this time (RFC 3339) or duration ago (10m)')
    .option('-t, --timestamps', 'prefix each line with its time')
    .action(async (container: string, flags: LogsFlags) => {
      const tail = parseTail(flags.tail ?? 'all');
      const since = flags.since !== undefined ? parseSince(flags.since, context.io.now()) : undefined;
      const manager = await openContainerManager(context);
      const entries = await manager.logs(container, {
        follow: flags.follow ?? false,
        signal: context.io.signal,
        ...(tail !== undefined ? { tail } : {}),
        ...(since !== undefined ? { since } : {}),
      });
      let atLineStart = true;
      for await (const entry of entries) {
        const prefix = flags.timestamps && atLineStart ? `${entry.time} ` : '';
        const text = `${prefix}${entry.content}${entry.partial ? '' : '\n'}`;
        atLineStart = !entry.partial;
        if (entry.stream === 'stderr') context.io.writeError(text);
        else context.io.write(text);
      }
    });
}
