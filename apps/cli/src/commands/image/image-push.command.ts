// `flotilla image push IMAGE [DESTINATION]`: upload an image's missing blobs and its manifest.
import { Command } from 'commander';
import type { CliContext } from '../../cli-context';
import { clusterRegistryTarget } from './cluster-registry';
import { openImageStore, progressPrinter } from './image-runtime';
import { addRegistryFlags, registryClient, type RegistryFlags } from './registry-flags';

export function createImagePushCommand(context: CliContext): Command {
  return addRegistryFlags(
    new Command('push')
      .description('upload an image to a registry (to its own name, or to DESTINATION)')
      .argument('<image>', 'local image name or ID')
      .argument(
        '[destination]',
        "registry name to push to, e.g. localhost:5000/team/app:v1 (default: the image's own name, in the registry of the `flotilla up` cluster when it names none)",
      )
      .option('-q, --quiet', 'print only the pushed digest'),
  ).action(
    async (source: string, destination: string | undefined, flags: RegistryFlags & { quiet?: boolean }) => {
      const cluster = destination === undefined ? clusterRegistryTarget(context, source) : undefined;
      const target = destination ?? cluster?.target;
      const client = registryClient(context, {
        ...flags,
        insecureRegistry: [...(flags.insecureRegistry ?? []), ...(cluster ? [cluster.registry] : [])],
      });
      const digest = await client.push(openImageStore(context), source, {
        ...(target === undefined ? {} : { target }),
        ...(flags.quiet
          ? {}
          : { onProgress: progressPrinter(context, { active: 'Pushing', done: 'Pushed' }) }),
      });
      if (flags.quiet) context.io.write(`${digest}\n`);
    },
  );
}
