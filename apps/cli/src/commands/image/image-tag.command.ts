// `flotilla image tag SOURCE TARGET`: another name for an image.
import { Command } from 'commander';
import type { CliContext } from '../../cli-context';
import { openImageStore } from './image-runtime';

export function createImageTagCommand(context: CliContext): Command {
  return new Command('tag')
    .description('give an image another name')
    .argument('<source>', 'image name or ID')
    .argument('<target>', 'new name, e.g. localhost:5000/team/app:v2')
    .action(async (source: string, target: string) => {
      await openImageStore(context).tag(source, target);
    });
}
