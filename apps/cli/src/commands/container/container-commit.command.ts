// `flotilla container commit [-m MSG] [-a AUTHOR] [-c CHANGE]... CONTAINER [NAME[:TAG]]`: the container's
// changes become a layer of a new image (Docker's commit; the container is not paused, so commit a
// stopped container or one that is not writing).
import { Command } from 'commander';
import { commitContainer, createNodeContainerManager } from '@flotilla/runtime';
import { CliError, type CliContext } from '../../cli-context';
import { openImageStore } from '../image/image-runtime';

interface CommitFlags {
  message?: string;
  author?: string;
  change: string[];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function createContainerCommitCommand(context: CliContext): Command {
  return new Command('commit')
    .description("make a new image from a container's changes")
    .argument('<container>', 'container name or ID')
    .argument('[image]', 'name for the new image, e.g. myapp:v2')
    .option('-m, --message <text>', 'commit message (kept in the image history)')
    .option('-a, --author <name>', 'author recorded in the image')
    .option(
      '-c, --change <instruction>',
      'Dockerfile instruction for the new config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL',
      collect,
      [],
    )
    .action(async (container: string, image: string | undefined, flags: CommitFlags) => {
      if (process.getuid?.() !== 0)
        throw new CliError("container commit needs root (it reads the container's overlay upper dir)");
      const stateDir = context.io.env['FLOTILLA_STATE_DIR'];
      const containers = await createNodeContainerManager(
        stateDir !== undefined && stateDir !== '' ? { stateDir } : {},
      );
      const committed = await commitContainer({
        containers,
        images: openImageStore(context),
        container,
        names: image === undefined ? [] : [image],
        changes: flags.change,
        ...(flags.message === undefined ? {} : { message: flags.message }),
        ...(flags.author === undefined ? {} : { author: flags.author }),
      });
      context.io.write(`${committed.id}\n`);
    });
}
