// `flotilla delete`: by name, by label selector or by manifest, and by default waits until the
// objects are really gone (finalizers done), as kubectl does.
import { Command, Option } from 'commander';
import type { ResourceType } from '@flotilla/api';
import { isNotFound, type PropagationPolicy } from '@flotilla/client';
import { CliError, EXIT_USAGE, globalOptions, parseDuration, type CliContext } from '../cli-context';
import { readManifests } from '../manifests/manifest-reader';
import { resourceLabel } from '@flotilla/printers';
import { waitForObject } from '../resources/object-waiter';
import { parseResourceArgs, typeOfObject } from '../resources/resource-args';
import { filenameOption } from './apply.command';

interface DeleteFlags {
  readonly filename: string[];
  readonly recursive: boolean;
  readonly selector?: string;
  readonly all: boolean;
  readonly allNamespaces: boolean;
  readonly ignoreNotFound: boolean;
  readonly wait: boolean;
  readonly timeout: string;
  readonly cascade: 'background' | 'foreground' | 'orphan';
  readonly gracePeriod?: string;
  readonly dryRun: 'none' | 'server';
}

interface Target {
  readonly type: ResourceType;
  readonly namespace: string;
  readonly name: string;
}

const POLICIES: Record<DeleteFlags['cascade'], PropagationPolicy> = {
  background: 'Background',
  foreground: 'Foreground',
  orphan: 'Orphan',
};

export function createDeleteCommand(context: CliContext): Command {
  return new Command('delete')
    .description('delete objects by name, label selector or manifest')
    .argument('[resources...]', 'TYPE NAME..., TYPE/NAME..., or TYPE with -l/--all')
    .addOption(filenameOption('delete the objects these manifests describe'))
    .option('-R, --recursive', 'also read manifests in subdirectories of -f directories', false)
    .option('-l, --selector <selector>', 'delete the objects whose labels match')
    .option('--all', 'delete every object of the type in the namespace', false)
    .option('-A, --all-namespaces', 'with -l or --all, act in every namespace', false)
    .option('--ignore-not-found', 'treat objects that do not exist as deleted', false)
    .addOption(
      new Option('--wait [bool]', 'wait until the objects are gone (--wait=false to return at once)')
        .argParser(parseBoolean)
        .default(true),
    )
    .option('--timeout <duration>', 'how long --wait waits', '2m')
    .addOption(
      new Option('--cascade <policy>', 'what happens to dependents')
        .choices(['background', 'foreground', 'orphan'])
        .default('background'),
    )
    .option('--grace-period <seconds>', 'seconds the objects get to shut down')
    .addOption(
      new Option('--dry-run [strategy]', 'server: check without deleting')
        .choices(['none', 'server'])
        .preset('server')
        .default('none'),
    )
    .action(async (args: string[], flags: DeleteFlags, command: Command) => {
      const timeoutMs = parseDuration(flags.timeout, '--timeout');
      const gracePeriodSeconds = flags.gracePeriod === undefined ? undefined : Number(flags.gracePeriod);
      if (
        gracePeriodSeconds !== undefined &&
        !(Number.isInteger(gracePeriodSeconds) && gracePeriodSeconds >= 0)
      ) {
        throw new CliError(
          `--grace-period must be a whole number of seconds, not "${flags.gracePeriod ?? ''}"`,
          EXIT_USAGE,
        );
      }
      if (flags.filename.length > 0 && args.length > 0) {
        throw new CliError('give either -f manifests or resource arguments, not both', EXIT_USAGE);
      }
      // Usage problems come out before any connection is attempted.
      const selections = flags.filename.length > 0 ? [] : parseResourceArgs(args);
      for (const { type, names } of selections) {
        if (names.length > 0 && (flags.selector !== undefined || flags.all)) {
          throw new CliError('names cannot be combined with -l or --all', EXIT_USAGE);
        }
        if (names.length === 0 && flags.selector === undefined && !flags.all) {
          throw new CliError(
            `say which ${type.plural} to delete: give names, -l SELECTOR, or --all for every one in the namespace`,
            EXIT_USAGE,
          );
        }
      }
      const client = context.client(command);
      const namespace = globalOptions(command).namespace ?? client.defaultNamespace;
      const targets: Target[] = [];

      if (flags.filename.length > 0) {
        const manifests = await readManifests({
          paths: flags.filename,
          recursive: flags.recursive,
          cwd: context.io.cwd,
          readStdin: () => context.io.readStdin(),
        });
        for (const { object, origin } of manifests) {
          targets.push({
            type: typeOfObject(object, origin),
            namespace: object.metadata.namespace ?? namespace,
            name: object.metadata.name ?? '',
          });
        }
      } else {
        for (const { type, names } of selections) {
          if (names.length > 0) {
            targets.push(...names.map((name) => ({ type, namespace, name })));
            continue;
          }
          const list = await client.listAll(type, {
            allNamespaces: flags.allNamespaces,
            labelSelector: flags.selector,
          });
          targets.push(
            ...list.items.map((item) => ({
              type,
              namespace: item.metadata.namespace ?? namespace,
              name: item.metadata.name ?? '',
            })),
          );
        }
        if (targets.length === 0) {
          context.io.writeError(
            flags.allNamespaces ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`,
          );
          return;
        }
      }

      const deleted: Array<Target & { readonly uid?: string }> = [];
      const dryRun = flags.dryRun === 'server';
      for (const target of targets) {
        try {
          const answer = await client.delete(target.type, target.name, {
            namespace: target.namespace,
            propagationPolicy: POLICIES[flags.cascade],
            gracePeriodSeconds,
            dryRun,
          });
          const uid = answer.kind === 'Status' ? undefined : (answer.metadata as { uid?: string }).uid;
          deleted.push({ ...target, uid });
          context.io.write(
            `${resourceLabel(target.type)} "${target.name}" deleted${dryRun ? ' (server dry run)' : ''}\n`,
          );
        } catch (error) {
          if (isNotFound(error) && flags.ignoreNotFound) continue;
          context.reportError(error);
        }
      }

      if (!flags.wait || dryRun) return;
      for (const target of deleted) {
        await waitForObject({
          client,
          type: target.type,
          namespace: target.namespace,
          name: target.name,
          // A new object under the same name (another uid) means ours is gone.
          until: (object) =>
            object === undefined || (target.uid !== undefined && object.metadata.uid !== target.uid),
          timeoutMs,
          signal: context.io.signal,
          describeGoal: 'deletion',
        });
      }
    });
}

export function parseBoolean(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new CliError(`expected true or false, not "${value}"`, EXIT_USAGE);
}
