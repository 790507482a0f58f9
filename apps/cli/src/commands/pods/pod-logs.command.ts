// `flotilla logs POD [-c CONTAINER] [-f] [-p] [--tail N] [--since 5m | --since-time T] [--timestamps]`:
// a container's log through the apiserver, from the node that runs the pod; -f follows until Ctrl-C.
// `flotilla logs deploy/NAME` merges every replica's log (workload-logs.ts).
import { Command } from 'commander';
import { streamPodLogs } from '@flotilla/client';
import { CliError, EXIT_USAGE, globalOptions, parseDuration, type CliContext } from '../../cli-context';
import { podNameOf } from './pod-name.util';
import { printWorkloadLogs, workloadOf } from './workload-logs';

interface LogsFlags {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  tail?: string;
  since?: string;
  sinceTime?: string;
  timestamps?: boolean;
  limitBytes?: string;
}

function wholeNumber(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new CliError(`${flag} "${text}" must be a whole number`, EXIT_USAGE);
  return Number(text);
}

export function createPodLogsCommand(context: CliContext): Command {
  return new Command('logs')
    .description("print a pod container's log (through the apiserver, from the node that runs it)")
    .argument('<pod>', 'pod name, pod/NAME, or deploy/NAME and rs/NAME for every replica, prefixed')
    .option('-c, --container <name>', 'the container (needed when the pod has more than one)')
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('-p, --previous', 'the previous, terminated instance of the container')
    .option('--tail <lines>', 'only the last N lines (-1: all)', '-1')
    .option('--since <duration>', 'only lines newer than this (5s, 2m, 3h)')
    .option('--since-time <time>', 'only lines newer than this RFC 3339 time')
    .option('--timestamps', 'prefix each line with its RFC 3339 time')
    .option('--limit-bytes <bytes>', 'stop after this many bytes')
    .action(async (pod: string, flags: LogsFlags, command: Command) => {
      if (flags.since !== undefined && flags.sinceTime !== undefined) {
        throw new CliError('give --since or --since-time, not both', EXIT_USAGE);
      }
      const tail =
        flags.tail === undefined || flags.tail === '-1' ? undefined : wholeNumber(flags.tail, '--tail');
      const sinceSeconds =
        flags.since !== undefined
          ? Math.max(1, Math.ceil(parseDuration(flags.since, '--since') / 1000))
          : undefined;
      if (flags.sinceTime !== undefined && Number.isNaN(Date.parse(flags.sinceTime))) {
        throw new CliError(`--since-time "${flags.sinceTime}" is not an RFC 3339 time`, EXIT_USAGE);
      }
      const client = context.client(command);
      const logFlags = {
        follow: flags.follow ?? false,
        previous: flags.previous ?? false,
        ...(tail !== undefined ? { tailLines: tail } : {}),
        ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
        ...(flags.sinceTime !== undefined ? { sinceTime: flags.sinceTime } : {}),
        timestamps: flags.timestamps ?? false,
      };
      const workload = workloadOf(pod);
      if (workload !== undefined) {
        await printWorkloadLogs({
          context,
          client,
          namespace: globalOptions(command).namespace ?? client.defaultNamespace,
          workload,
          container: flags.container,
          flags: logFlags,
        });
        return;
      }
      const response = await streamPodLogs(client, {
        pod: podNameOf(pod),
        ...(flags.container !== undefined ? { container: flags.container } : {}),
        follow: flags.follow ?? false,
        previous: flags.previous ?? false,
        ...(tail !== undefined ? { tailLines: tail } : {}),
        ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
        ...(flags.sinceTime !== undefined ? { sinceTime: flags.sinceTime } : {}),
        timestamps: flags.timestamps ?? false,
        ...(flags.limitBytes !== undefined
          ? { limitBytes: wholeNumber(flags.limitBytes, '--limit-bytes') }
          : {}),
        signal: context.io.signal,
      });
      await new Promise<void>((resolve, reject) => {
        response.on('data', (chunk: Buffer) => context.io.write(chunk.toString('utf8')));
        response.once('end', resolve);
        response.once('close', resolve);
        response.once('error', (error) => (context.io.signal.aborted ? resolve() : reject(error)));
      });
    });
}
