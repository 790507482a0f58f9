// `flotilla image ...`: Docker-like image commands on this node's state dir (daemonless, as podman).
import { Command } from 'commander';
import { CliContext } from '../../cli-context';
import { processIo } from '../../process-io';
import { createImageLoadCommand, createImageSaveCommand } from './image-archive.command';
import { createImageBuildCommand } from './image-build.command';
import { createImageInspectCommand } from './image-inspect.command';
import { createImageLsCommand } from './image-ls.command';
import { createImagePullCommand } from './image-pull.command';
import { createImagePushCommand } from './image-push.command';
import { createImagePruneCommand, createImageRmCommand } from './image-rm.command';
import { createImageTagCommand } from './image-tag.command';

/** The `image` command group; without a context it talks to the real process's stdout/stderr. */
export function createImageCommand(context: CliContext = new CliContext(processIo())): Command {
  return new Command('image')
    .description('build, load, save, pull, push and manage images on this node')
    .addCommand(createImageBuildCommand(context))
    .addCommand(createImageLoadCommand(context))
    .addCommand(createImageSaveCommand(context))
    .addCommand(createImagePullCommand(context))
    .addCommand(createImagePushCommand(context))
    .addCommand(createImageLsCommand(context))
    .addCommand(createImageRmCommand(context))
    .addCommand(createImageTagCommand(context))
    .addCommand(createImageInspectCommand(context))
    .addCommand(createImagePruneCommand(context));
}
