// `flotilla container ...`: Docker-like commands for containers on this node. Daemonless like podman:
// each command works straight on the node's state dir, so containers outlive the command that
// started them and any later command can see and manage them.
import { Command } from 'commander';
import type { CliContext } from '../../cli-context';
import { createContainerCommitCommand } from './container-commit.command';
import { createExecCommand } from './exec.command';
import { createInspectCommand } from './inspect.command';
import {
  createKillCommand,
  createRestartOnExitCommand,
  createRmCommand,
  createStartCommand,
  createStopCommand,
} from './lifecycle.command';
import { createLogsCommand } from './logs.command';
import { createPortCommand } from './port.command';
import { createPsCommand } from './ps.command';
import { createRunCommand } from './run.command';
import { createStatsCommand } from './stats.command';

export function createContainerCommand(context: CliContext): Command {
  return new Command('container')
    .description('run and manage containers on this node (needs root)')
    .enablePositionalOptions()
    .addCommand(createRunCommand(context))
    .addCommand(createExecCommand(context))
    .addCommand(createLogsCommand(context))
    .addCommand(createPsCommand(context))
    .addCommand(createStartCommand(context))
    .addCommand(createStopCommand(context))
    .addCommand(createKillCommand(context))
    .addCommand(createRmCommand(context))
    .addCommand(createInspectCommand(context))
    .addCommand(createPortCommand(context))
    .addCommand(createStatsCommand(context))
    .addCommand(createContainerCommitCommand(context))
    .addCommand(createRestartOnExitCommand(context), { hidden: true });
}
