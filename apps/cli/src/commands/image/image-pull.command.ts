// `flotilla image pull NAME[:TAG|@DIGEST]`: fetch an image from its registry, verified, and unpack it.
import { Command } from 'commander';
import { familiarReference, parseReference } from '@flotilla/runtime';
import type { CliContext } from '../../cli-context';
import { openImageStore, progressPrinter } from './image-runtime';
import { addRegistryFlags, registryClient, type RegistryFlags } from './registry-flags';

export function createImagePullCommand(context: CliContext): Command {
  return addRegistryFlags(
    new Command('pull')
      .description('download an image from a registry')
      .argument('<image>', 'e.g. busybox, localhost:5000/team/app:v1, app@sha256:...')
      .option('-q, --quiet', 'print only the image name'),
  ).action(async (reference: string, flags: RegistryFlags & { quiet?: boolean }) => {
    const name = familiarReference(parseReference(reference));
    const client = registryClient(context, flags);
    if (!flags.quiet) context.io.write(`Pulling ${name}\n`);
    const image = await client.pull(
      openImageStore(context),
      reference,
      flags.quiet
        ? {}
        : { onProgress: progressPrinter(context, { active: 'Downloading', done: 'Pull complete' }) },
    );
    if (!flags.quiet) context.io.write(`Digest: ${image.manifestDigest}\nStatus: Downloaded ${name}\n`);
    context.io.write(`${name}\n`);
  });
}
