// `flotilla set image ...`: change one field of a workload's pod template in place, which the
// deployment controller rolls out as a new revision.
import { Command } from 'commander';
import type { CliContext } from '../../cli-context';
import { createSetImageCommand } from './set-image.command';

export function createSetCommand(context: CliContext): Command {
  return new Command('set')
    .description("change a field of a workload's pod template")
    .addCommand(createSetImageCommand(context));
}
