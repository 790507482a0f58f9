// How container commands reach the node's runtime: daemonless, straight to the state dir
// (FLOTILLA_STATE_DIR, else /var/lib/flotilla), as root.
import { createNodeContainerManager, type ContainerManager, type ShimExitCommand } from '@flotilla/runtime';
import type { Command } from 'commander';
import { CliError, type CliContext } from '../../cli-context';

export async function openContainerManager(context: CliContext): Promise<ContainerManager> {
  if (process.getuid?.() !== 0) {
    throw new CliError('container commands need root (namespaces, mounts and cgroups): run them with sudo');
  }
  const stateDir = context.io.env['FLOTILLA_STATE_DIR'];
  return createNodeContainerManager({
    ...(stateDir !== undefined ? { stateDir } : {}),
    autoRemoveCommand: (id) => removeCommand(id, stateDir),
    restartCommand: (id) => cliCommand(['container', 'restart-on-exit', id], stateDir),
  });
}

/**
 * `flotilla container rm --force ID` as this very CLI runs, for a shim to run once its `run -d --rm`
 * container exits; it gets this environment only, so the state dir is named in it.
 */
export function removeCommand(id: string, stateDir: string | undefined): ShimExitCommand {
  return cliCommand(['container', 'rm', '--force', id], stateDir);
}

/** This very CLI with these arguments, for a shim to run with nothing but this environment. */
function cliCommand(args: readonly string[], stateDir: string | undefined): ShimExitCommand {
  const script = process.argv[1];
  return {
    args: [process.execPath, ...process.execArgv, ...(script ? [script] : []), ...args],
    env: [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ...(stateDir !== undefined ? [`FLOTILLA_STATE_DIR=${stateDir}`] : []),
    ],
  };
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}

/** "3 seconds", "2 minutes", "5 hours", "4 days": Docker's coarse ages. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  const plural = (value: number, unit: string): string => `${value} ${unit}${value === 1 ? '' : 's'}`;
  if (seconds < 1) return 'Less than a second';
  if (seconds < 60) return plural(seconds, 'second');
  if (seconds < 3600) return plural(Math.floor(seconds / 60), 'minute');
  if (seconds < 86400) return plural(Math.floor(seconds / 3600), 'hour');
  return plural(Math.floor(seconds / 86400), 'day');
}

/** Columns padded to their widest cell, three spaces apart, as docker ps prints. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd((widths[index] ?? 0) + 3)))
        .join('')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * `run` and `exec` end with a command line of the container's own (`exec web sh -c 'ls -l'`). The
 * root program reads its options anywhere on the line and hands subcommands only what it split off,
 * so such a tail arrives reordered; re-parsing the raw tail after this command's name with a parser
 * that stops at the first operand keeps it exactly as typed.
 */
export function reparseTail(command: Command, build: () => Command, context: CliContext): Command {
  const names: string[] = [];
  let root: Command = command;
  for (let current: Command | null = command; current; current = current.parent) {
    names.unshift(current.name());
    root = current;
  }
  const raw = (root as unknown as { rawArgs?: unknown }).rawArgs;
  const parser = build().exitOverride();
  parser.configureOutput({
    writeOut: (text) => context.io.write(text),
    writeErr: (text) => context.io.writeError(text),
  });
  parser.showHelpAfterError('(run with --help for usage)');
  if (!Array.isArray(raw) || !raw.every((arg): arg is string => typeof arg === 'string')) {
    parser.parse([...command.args], { from: 'user' });
    return parser;
  }
  let index = 0;
  for (const name of names.slice(1)) index = raw.indexOf(name, index) + 1;
  parser.parse(raw.slice(index), { from: 'user' });
  return parser;
}
