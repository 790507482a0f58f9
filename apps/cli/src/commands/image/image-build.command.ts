// `flotilla image build [-t NAME]... [-f FILE] CONTEXT`: build from a Containerfile/Dockerfile, RUN steps
// in containers of our own runtime.
import { resolve } from 'node:path';
import { Command } from 'commander';
import {
  ContainerRunStep,
  createNodeContainerManager,
  ImageBuilder,
  type ContainerNetworkMode,
} from '@flotilla/runtime';
import { CliError, EXIT_USAGE, type CliContext } from '../../cli-context';
import { openImageStore, progressPrinter, shortDigest } from './image-runtime';
import { addRegistryFlags, registryClient, type RegistryFlags } from './registry-flags';

interface BuildFlags extends RegistryFlags {
  tag: string[];
  file?: string;
  buildArg: string[];
  noCache?: boolean;
  target?: string;
  network: string;
  quiet?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function createImageBuildCommand(context: CliContext): Command {
  return addRegistryFlags(
    new Command('build')
      .description('build an image from a Containerfile or Dockerfile')
      .argument('<context>', 'the build context directory')
      .option('-t, --tag <name>', 'name the image (repeatable)', collect, [])
      .option(
        '-f, --file <file>',
        'the Containerfile (default: CONTEXT/Containerfile, else CONTEXT/Dockerfile)',
      )
      .option('--build-arg <name=value>', 'set a build argument (repeatable)', collect, [])
      .option('--no-cache', 'run every step again instead of reusing cached results')
      .option('--target <stage>', 'build up to this stage (FROM ... AS stage)')
      .option('--network <mode>', 'network for RUN steps: host or none', 'host')
      .option('-q, --quiet', 'print only the image ID'),
  ).action(async (contextDir: string, flags: BuildFlags) => {
    if (flags.network !== 'host' && flags.network !== 'none')
      throw new CliError(`--network "${flags.network}" must be host or none`, EXIT_USAGE);
    if (process.getuid?.() !== 0)
      throw new CliError('image build needs root: RUN steps run in containers (namespaces, mounts)');
    const buildArgs: Record<string, string> = {};
    for (const pair of flags.buildArg) {
      const equals = pair.indexOf('=');
      if (equals <= 0) {
        // As Docker: a bare name takes its value from the environment.
        const value = context.io.env[pair];
        if (equals === 0 || value === undefined)
          throw new CliError(`--build-arg ${pair}: write NAME=value (or export ${pair})`, EXIT_USAGE);
        buildArgs[pair] = value;
      } else {
        buildArgs[pair.slice(0, equals)] = pair.slice(equals + 1);
      }
    }
    const store = openImageStore(context);
    const stateDir = context.io.env['FLOTILLA_STATE_DIR'];
    const containers = await createNodeContainerManager(
      stateDir !== undefined && stateDir !== '' ? { stateDir } : {},
    );
    const say = (text: string): void => {
      if (!flags.quiet) context.io.write(text);
    };
    const image = await new ImageBuilder({
      store,
      contextDir: resolve(context.io.cwd, contextDir),
      ...(flags.file === undefined ? {} : { file: resolve(context.io.cwd, flags.file) }),
      tags: flags.tag,
      buildArgs,
      runStep: new ContainerRunStep({ containers, network: flags.network as ContainerNetworkMode }),
      noCache: flags.noCache === true,
      ...(flags.target === undefined ? {} : { target: flags.target }),
      resolveBase: (reference) =>
        registryClient(context, flags).pull(
          store,
          reference,
          flags.quiet
            ? {}
            : { onProgress: progressPrinter(context, { active: 'Downloading', done: 'Pull complete' }) },
        ),
      onProgress: (event) => {
        switch (event.kind) {
          case 'step':
            say(`STEP ${event.step}/${event.total}: ${event.instruction}\n`);
            return;
          case 'cached':
            say(' ---> Using cache\n');
            return;
          case 'output':
            say(`${event.line}\n`);
            return;
          case 'step-done':
            say(` ---> ${shortDigest(event.imageId)}\n`);
            return;
          case 'done':
            say(
              `Successfully built ${shortDigest(event.imageId)}\n${event.names.map((name) => `Successfully tagged ${name}\n`).join('')}`,
            );
            return;
        }
      },
    }).build();
    if (flags.quiet) context.io.write(`${image.id}\n`);
  });
}
