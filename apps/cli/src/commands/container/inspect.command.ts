// `flotilla container inspect CONTAINER...`: the stored record and the live state, as JSON.
import { Command } from 'commander';
import type { ContainerInfo } from '@flotilla/runtime';
import type { CliContext } from '../../cli-context';
import { openContainerManager } from './container-runtime';

export function createInspectCommand(context: CliContext): Command {
  return new Command('inspect')
    .description('show containers in detail as JSON')
    .argument('<containers...>', 'names or ids')
    .action(async (references: string[]) => {
      const manager = await openContainerManager(context);
      const found: ContainerInfo[] = [];
      for (const reference of references) {
        try {
          found.push(await manager.inspect(reference));
        } catch (error: unknown) {
          context.reportError(error);
        }
      }
      context.io.write(`${JSON.stringify(found, null, 2)}\n`);
    });
}
