// `flotilla container start|stop|kill|rm`: lifecycle moves by name or id, several at once, carrying
// on past a failure as docker does (the exit code says whether all succeeded).
import { Command } from 'commander';
import { type CliContext } from '../../cli-context';
import { parsePositiveInteger } from './container-flags';
import { openContainerManager } from './container-runtime';

async function eachContainer(
  context: CliContext,
  references: string[],
  act: (reference: string) => Promise<void>,
): Promise<void> {
  for (const reference of references) {
    try {
      await act(reference);
      context.io.write(`${reference}\n`);
    } catch (error: unknown) {
      context.reportError(error);
    }
  }
}

export function createStartCommand(context: CliContext): Command {
  return new Command('start')
    .description('start created or stopped containers in the background')
    .argument('<containers...>', 'names or ids')
    .action(async (references: string[]) => {
      const manager = await openContainerManager(context);
      await eachContainer(context, references, async (reference) => void (await manager.start(reference)));
    });
}

export function createStopCommand(context: CliContext): Command {
  return new Command('stop')
    .description(
      "send the stop signal (the image's STOPSIGNAL, else SIGTERM), then SIGKILL after the grace period",
    )
    .argument('<containers...>', 'names or ids')
    .option('-t, --time <seconds>', 'seconds to wait before SIGKILL', '10')
    .option('-s, --signal <signal>', 'the signal to send first instead of the stop signal')
    .action(async (references: string[], flags: { time: string; signal?: string }) => {
      const timeoutSeconds = flags.time === '0' ? 0 : parsePositiveInteger(flags.time, '--time');
      const manager = await openContainerManager(context);
      await eachContainer(context, references, async (reference) => {
        await manager.stop(reference, {
          timeoutSeconds,
          ...(flags.signal !== undefined ? { signal: flags.signal } : {}),
        });
      });
    });
}

export function createKillCommand(context: CliContext): Command {
  return new Command('kill')
    .description('send a signal (default SIGKILL) to running containers')
    .argument('<containers...>', 'names or ids')
    .option('-s, --signal <signal>', 'the signal to send', 'SIGKILL')
    .action(async (references: string[], flags: { signal: string }) => {
      const manager = await openContainerManager(context);
      await eachContainer(
        context,
        references,
        async (reference) => void (await manager.kill(reference, flags.signal)),
      );
    });
}

export function createRmCommand(context: CliContext): Command {
  return new Command('rm')
    .description('remove containers (a running one only with --force)')
    .argument('<containers...>', 'names or ids')
    .option('-f, --force', 'kill a running container first')
    .action(async (references: string[], flags: { force?: boolean }) => {
      const manager = await openContainerManager(context);
      await eachContainer(context, references, (reference) =>
        manager.remove(reference, { force: flags.force ?? false }),
      );
    });
}

/**
 * What a container's shim runs once it exits when it has a restart policy (podman's exit command):
 * starts it again if the policy says so. Not for people; hidden from help.
 */
export function createRestartOnExitCommand(context: CliContext): Command {
  return new Command('restart-on-exit')
    .description("apply a container's restart policy after it exited (run by its shim)")
    .argument('<container>', 'id')
    .action(async (reference: string) => {
      const manager = await openContainerManager(context);
      await manager.restartOnExit(reference);
    });
}
