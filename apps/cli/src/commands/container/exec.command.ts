// `flotilla container exec [-it] CONTAINER COMMAND...`: one more process in a running container, in
// its namespaces and cgroup, with the same capabilities and no_new_privs as its init.
import { Command } from 'commander';
import { CliError, EXIT_USAGE, type CliContext } from '../../cli-context';
import { collect, parseEnv } from './container-flags';
import { openContainerManager, reparseTail } from './container-runtime';

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  env?: string[];
  workdir?: string;
  user?: string;
}

function execParser(): Command {
  return new Command('exec')
    .description('run a command in a running container')
    .argument('<container>', 'name or id')
    .argument('<command...>', 'the command and its arguments')
    .passThroughOptions()
    .option('-i, --interactive', 'pass stdin to the command')
    .option('-t, --tty', 'give the command a terminal (this one, relayed)')
    .option('-e, --env <NAME=value>', 'set an environment variable (repeatable)', collect)
    .option('-w, --workdir <dir>', 'the working directory inside the container')
    .option('-u, --user <user[:group]>', 'run as this user');
}

export function createExecCommand(context: CliContext): Command {
  return execParser()
    .allowUnknownOption()
    .action(async (_container: string, _args: string[], _flags: ExecFlags, command: Command) => {
      const parsed = reparseTail(command, execParser, context);
      const flags = parsed.opts<ExecFlags>();
      const [container = '', ...args] = parsed.args;
      if (flags.tty && !process.stdin.isTTY) {
        throw new CliError('-t needs this command to run in a terminal (stdin is not one)', EXIT_USAGE);
      }
      const manager = await openContainerManager(context);
      const env = (flags.env ?? [])
        .map((entry) => parseEnv(entry, context.io.env))
        .filter((entry): entry is string => entry !== undefined);
      const child = await manager.exec(container, {
        args,
        env,
        tty: flags.tty ?? false,
        inheritStdio: flags.tty ?? false,
        ...(flags.workdir !== undefined ? { workingDir: flags.workdir } : {}),
        ...(flags.user !== undefined ? { user: flags.user } : {}),
      });
      if (!flags.tty) {
        // Pipes, never this terminal itself: a container process must not hold a host tty.
        child.stdout?.on('data', (chunk: Buffer) => context.io.write(chunk.toString()));
        child.stderr?.on('data', (chunk: Buffer) => context.io.writeError(chunk.toString()));
        if (flags.interactive) process.stdin.pipe(child.stdin!);
        else child.stdin?.end();
      }
      const forward = (): void => void child.kill('SIGINT');
      context.io.signal.addEventListener('abort', forward, { once: true });
      const code = await new Promise<number>((resolve, reject) => {
        child.once('error', (error) => reject(new CliError(`cannot run the shim: ${error.message}`)));
        child.once('close', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1)));
      });
      context.io.signal.removeEventListener('abort', forward);
      if (flags.interactive && !flags.tty) process.stdin.unpipe(child.stdin!);
      context.exitCode = code;
    });
}
