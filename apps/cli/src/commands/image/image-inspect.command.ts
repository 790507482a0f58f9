// `flotilla image inspect IMAGE...`: Docker-shaped JSON, one array for all images asked for.
import { Command } from 'commander';
import type { CliContext } from '../../cli-context';
import { openImageStore } from './image-runtime';

export function createImageInspectCommand(context: CliContext): Command {
  return new Command('inspect')
    .description('show images as JSON (config, layers, names)')
    .argument('<images...>', 'image names or IDs')
    .action(async (references: string[]) => {
      const store = openImageStore(context);
      const found: unknown[] = [];
      for (const reference of references) {
        try {
          found.push(await store.inspect(reference));
        } catch (error) {
          context.reportError(error);
        }
      }
      context.io.write(`${JSON.stringify(found, null, 4)}\n`);
    });
}
