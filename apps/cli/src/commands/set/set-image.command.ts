// `flotilla set image deploy/NAME CONTAINER=IMAGE... [*=IMAGE]`: kubectl's set image for deployments
// and replica sets. Every named container must exist (in containers or initContainers); `*` sets every
// container. The change is a strategic merge patch of the template, keyed by container name.
import { Command } from 'commander';
import type { Container, KubeObject, PodTemplateSpec } from '@flotilla/api';
import { qualifiedName } from '@flotilla/printers';
import { CliError, EXIT_USAGE, globalOptions, type CliContext } from '../../cli-context';
import { parseResourceArgs } from '../../resources/resource-args';

export function createSetImageCommand(context: CliContext): Command {
  return new Command('image')
    .description('set the image of containers in deployments or replica sets')
    .argument('<args...>', 'TYPE/NAME... then CONTAINER=IMAGE... (`*=IMAGE` for every container)')
    .action(async (args: string[], _flags: unknown, command: Command) => {
      const assignments = args.filter((arg) => arg.includes('='));
      const resources = args.filter((arg) => !arg.includes('='));
      if (assignments.length === 0) {
        throw new CliError('say which image: CONTAINER=IMAGE (or *=IMAGE for every container)', EXIT_USAGE);
      }
      const images = new Map<string, string>();
      for (const assignment of assignments) {
        const at = assignment.indexOf('=');
        const container = assignment.slice(0, at);
        const image = assignment.slice(at + 1);
        if (container === '' || image === '') {
          throw new CliError(`"${assignment}" is not CONTAINER=IMAGE`, EXIT_USAGE);
        }
        images.set(container, image);
      }
      const selections = parseResourceArgs(resources);
      if (selections.length === 0) throw new CliError('say which workload: deployment/NAME', EXIT_USAGE);
      for (const { type, names } of selections) {
        if (type.kind !== 'Deployment' && type.kind !== 'ReplicaSet') {
          throw new CliError(
            `set image works on deployments and replicasets, not ${type.plural}`,
            EXIT_USAGE,
          );
        }
        if (names.length === 0)
          throw new CliError(`say which ${type.plural}: ${type.singular}/NAME`, EXIT_USAGE);
      }
      const client = context.client(command);
      const namespace = globalOptions(command).namespace ?? client.defaultNamespace;
      for (const { type, names } of selections) {
        for (const name of names) {
          try {
            const object = await client.get(type, name, { namespace });
            const patch = imagePatch(object, images);
            await client.patch(type, name, patch, {
              namespace,
              patchType: 'strategic',
              fieldManager: 'flotilla-set',
            });
            context.io.write(`${qualifiedName(type, { metadata: { name } })} image updated\n`);
          } catch (error) {
            context.reportError(error);
          }
        }
      }
    });
}

/** The template patch for `images` (container name or `*` → image); throws for an unknown container. */
export function imagePatch(object: KubeObject, images: ReadonlyMap<string, string>): unknown {
  const template = (object['spec'] as { template?: PodTemplateSpec } | undefined)?.template;
  const lists = {
    containers: template?.spec.containers ?? [],
    initContainers: template?.spec.initContainers ?? [],
  };
  const all = [...lists.containers, ...lists.initContainers].map((container) => container.name);
  for (const name of images.keys()) {
    if (name !== '*' && !all.includes(name)) {
      throw new CliError(`unable to find container named "${name}" (it has ${all.join(', ') || 'none'})`);
    }
  }
  const pick = (containers: readonly Container[]) =>
    containers
      .map((container) => ({ name: container.name, image: images.get(container.name) ?? images.get('*') }))
      .filter((entry): entry is { name: string; image: string } => entry.image !== undefined);
  const spec: Record<string, unknown> = {};
  const containers = pick(lists.containers);
  const initContainers = pick(lists.initContainers);
  if (containers.length > 0) spec['containers'] = containers;
  if (initContainers.length > 0) spec['initContainers'] = initContainers;
  return { spec: { template: { spec } } };
}
