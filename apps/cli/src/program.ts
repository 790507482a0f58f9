// The `flotilla` command tree. Output goes through CliIo so the same program runs in tests.
import { Command, CommanderError } from 'commander';
import { CliContext, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, describeError, type CliIo } from './cli-context';
import { createApplyCommand } from './commands/apply.command';
import { createAutoscaleCommand } from './commands/autoscale.command';
import { createConfigCommand } from './commands/config.command';
import { createContainerCommand } from './commands/container/container.command';
import { createDeleteCommand } from './commands/delete.command';
import { createDescribeCommand } from './commands/describe.command';
import { createDiffCommand } from './commands/diff.command';
import { createDownCommand, createUpCommand } from './commands/up.command';
import { createGetCommand } from './commands/get.command';
import { createImageCommand } from './commands/image/image.command';
import { createPodExecCommand } from './commands/pods/pod-exec.command';
import { createPodLogsCommand } from './commands/pods/pod-logs.command';
import { createRolloutCommand } from './commands/rollout.command';
import { createScaleCommand } from './commands/scale.command';
import { createSetCommand } from './commands/set/set.command';
import { createTopCommand } from './commands/top.command';
import { createVersionCommand } from './commands/version.command';
import { createWaitCommand } from './commands/wait.command';

export function createProgram(context: CliContext): Command {
  const program = new Command('flotilla')
    .description('Flotilla: run containers on your own cluster, Kubernetes-style')
    .option(
      '--kubeconfig <file>',
      'the kubeconfig to use (default: $KUBECONFIG, else $FLOTILLA_HOME/kubeconfig)',
    )
    .option('--context <name>', 'the kubeconfig context to use instead of current-context')
    .option('-n, --namespace <namespace>', "the namespace to act in (default: the context's, else default)")
    .addCommand(createApplyCommand(context))
    .addCommand(createGetCommand(context))
    .addCommand(createDescribeCommand(context))
    .addCommand(createDeleteCommand(context))
    .addCommand(createWaitCommand(context))
    .addCommand(createDiffCommand(context))
    .addCommand(createScaleCommand(context))
    .addCommand(createAutoscaleCommand(context))
    .addCommand(createTopCommand(context))
    .addCommand(createPodLogsCommand(context))
    .addCommand(createPodExecCommand(context))
    .addCommand(createRolloutCommand(context))
    .addCommand(createSetCommand(context))
    .addCommand(createConfigCommand(context))
    .addCommand(createUpCommand(context))
    .addCommand(createDownCommand(context))
    .addCommand(createImageCommand(context))
    .addCommand(createVersionCommand(context))
    .addCommand(createContainerCommand(context));
  configureRecursively(program, context.io);
  return program;
}

/** Runs one command line to completion and returns its exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const context = new CliContext(io);
  const program = createProgram(context);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExitCode(error);
    io.writeError(`${describeError(error)}\n`);
    if (io.env['FLOTILLA_DEBUG'] && error instanceof Error && error.stack) io.writeError(`${error.stack}\n`);
    const code = (error as { exitCode?: unknown }).exitCode;
    return typeof code === 'number' && code > 0 ? code : EXIT_FAILURE;
  } finally {
    context.close();
  }
}

function commanderExitCode(error: CommanderError): number {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
  return EXIT_USAGE;
}

// addCommand does not pass settings down, so apply output routing and exit handling to every level.
function configureRecursively(command: Command, io: CliIo): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => io.write(text),
    writeErr: (text) => io.writeError(text),
  });
  command.showHelpAfterError('(run with --help for usage)');
  for (const child of command.commands) configureRecursively(child, io);
}
