// `flotilla container commit [-m MSG] [-a AUTHOR] [-c CHANGE]... [--pause=false] CONTAINER [NAME[:TAG]]`:
// the container's changes become a layer of a new image. As Docker, a running container is paused
// (frozen in its cgroup) while its files are read, so the layer is not taken half-written.
import { Command } from 'commander';
import { commitContainer, createNodeContainerManager } from '@flotilla/runtime';
import { CliError, EXIT_USAGE, type CliContext } from '../../cli-context';
import { openImageStore } from '../image/image-runtime';

interface CommitFlags {
  message?: string;
  author?: string;
  change: string[];
  pause: boolean;
}

function parseBoolean(text: string): boolean {
  if (/^(true|1)$/i.test(text)) return true;
  if (/^(false|0)$/i.test(text)) return false;
  throw new CliError(`--pause "${text}" must be true or false`, EXIT_USAGE);
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
    .option('-p, --pause [boolean]', 'pause a running container during the commit', parseBoolean, true)
    .action(async (container: string, image: string | undefined, flags: CommitFlags) => {
      if (process.getuid?.() !== 0)
        throw new CliError("container commit needs root (it reads the container's overlay upper dir)");
      const stateDir = context.io.env['FLOTILLA_STATE_DIR'];
      const containers = await createNodeContainerManager(
        stateDir !== undefined && stateDir !== '' ? { stateDir } : {},
      );
      const commit = (): ReturnType<typeof commitContainer> =>
        commitContainer({
          containers,
          images: openImageStore(context),
          container,
          names: image === undefined ? [] : [image],
          changes: flags.change,
          ...(flags.message === undefined ? {} : { message: flags.message }),
          ...(flags.author === undefined ? {} : { author: flags.author }),
        });
      const committed = flags.pause ? await containers.withPaused(container, commit) : await commit();
      context.io.write(`${committed.id}\n`);
    });
}
