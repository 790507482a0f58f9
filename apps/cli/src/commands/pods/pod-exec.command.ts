// `flotilla exec [-i] [-t] POD [-c CONTAINER] -- COMMAND [ARGS...]`: a command in a pod's container,
// through the apiserver to the node that runs it, exiting with the command's exit code. With -t this
// terminal goes raw and its size follows the window (SIGWINCH), as `kubectl exec -it` does.
import { Command } from 'commander';
import { execInPod } from '@flotilla/client';
import { CliError, EXIT_USAGE, type CliContext } from '../../cli-context';
import { podNameOf } from './pod-name.util';

interface ExecFlags {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
}

function terminalSize(): { rows: number; columns: number } {
  return { rows: process.stdout.rows ?? 24, columns: process.stdout.columns ?? 80 };
}

export function createPodExecCommand(context: CliContext): Command {
  return new Command('exec')
    .description("run a command in a pod's container (through the apiserver, on the node that runs it)")
    .usage('[-i] [-t] POD [-c CONTAINER] -- COMMAND [ARGS...]')
    .argument('<pod>', 'pod name, or pod/NAME')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-c, --container <name>', 'the container (default: the only one)')
    .option('-i, --stdin', 'pass this stdin to the command')
    .option('-t, --tty', 'give the command a terminal (this one, in raw mode)')
    .action(async (pod: string, commandLine: string[], flags: ExecFlags, command: Command) => {
      if (commandLine.length === 0) throw new CliError('say which command to run, after --', EXIT_USAGE);
      let tty = flags.tty ?? false;
      if (tty && process.stdin.isTTY !== true) {
        // kubectl's behaviour: carry on without a terminal rather than fail a scripted call.
        context.io.writeError('Unable to use a TTY - input is not a terminal or the right kind of file\n');
        tty = false;
      }
      const client = context.client(command);
      const raw = tty && flags.stdin === true;
      if (raw) process.stdin.setRawMode(true);
      try {
        context.exitCode = await execInPod(client, {
          pod: podNameOf(pod),
          ...(flags.container !== undefined ? { container: flags.container } : {}),
          command: commandLine,
          ...(flags.stdin ? { stdin: process.stdin } : {}),
          stdout: process.stdout,
          ...(tty ? {} : { stderr: process.stderr }),
          tty,
          ...(tty
            ? {
                terminalSize: terminalSize(),
                onResize: (send) => {
                  const onResize = (): void => send(terminalSize());
                  process.stdout.on('resize', onResize);
                  return () => process.stdout.off('resize', onResize);
                },
              }
            : {}),
          signal: context.io.signal,
        });
      } finally {
        if (raw) process.stdin.setRawMode(false);
      }
    });
}
