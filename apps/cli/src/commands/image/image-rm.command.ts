// `flotilla image rm IMAGE...`: untag, and delete images (with their layers) no name points to.
import { Command } from 'commander';
import type { CliContext } from '../../cli-context';
import { openImageStore } from './image-runtime';

export function createImageRmCommand(context: CliContext): Command {
  return new Command('rm')
    .alias('remove')
    .description('remove images (by name: untag; the last name deletes the image)')
    .argument('<images...>', 'image names or IDs')
    .option('-f, --force', 'remove even when several names or a container use it')
    .action(async (references: string[], flags: { force?: boolean }) => {
      const store = openImageStore(context);
      for (const reference of references) {
        try {
          // The store checks the state dir's container snapshots itself.
          const result = await store.remove(reference, { force: flags.force ?? false });
          for (const name of result.untagged) context.io.write(`Untagged: ${name}\n`);
          for (const id of result.deleted) context.io.write(`Deleted: ${id}\n`);
        } catch (error) {
          context.reportError(error);
        }
      }
    });
}

export function createImagePruneCommand(context: CliContext): Command {
  return new Command('prune')
    .description('delete blobs and unpacked layers that no image or container uses')
    .option('--build-cache', "also drop the build cache (build steps' intermediate images)")
    .action(async (flags: { buildCache?: boolean }) => {
      const store = openImageStore(context);
      if (flags.buildCache) context.io.write(`Dropped ${await store.dropBuildCache()} cached build steps\n`);
      const result = await store.gc();
      context.io.write(`Deleted ${result.blobs} blobs and ${result.layers} unpacked layers\n`);
    });
}
