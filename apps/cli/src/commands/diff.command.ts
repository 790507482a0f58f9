// `flotilla diff -f`: what apply would change, as a unified diff of the live objects against the
// server's dry-run apply. Exit 0: no differences; 1: differences; 2 and up: something failed.
import { Command } from 'commander';
import { apiVersionOf, type KubeObject } from '@flotilla/api';
import { globalOptions, type CliContext } from '../cli-context';
import { readManifests } from '../manifests/manifest-reader';
import { formatValue } from '../output/object.printer';
import { unifiedDiff } from '../output/unified-diff';
import { FIELD_MANAGER, applyManifest, filenameOption, sortKeys } from './apply.command';

export const EXIT_DIFF_FAILED = 2;

export function createDiffCommand(context: CliContext): Command {
  return new Command('diff')
    .description('show what apply -f would change (exit 1 when there are differences)')
    .addOption(filenameOption('the manifests to compare'))
    .option('-R, --recursive', 'also read manifests in subdirectories of -f directories', false)
    .option('--force-conflicts', 'compare as apply --force-conflicts would apply', false)
    .option('--field-manager <name>', 'the field manager apply would use', FIELD_MANAGER)
    .action(
      async (
        flags: { filename: string[]; recursive: boolean; forceConflicts: boolean; fieldManager: string },
        command: Command,
      ) => {
        let differs = false;
        let failed = false;
        try {
          const manifests = await readManifests({
            paths: flags.filename,
            recursive: flags.recursive,
            cwd: context.io.cwd,
            readStdin: () => context.io.readStdin(),
          });
          const client = context.client(command);
          const explicitNamespace = globalOptions(command).namespace;
          for (const manifest of manifests) {
            // One object the server rejects should not hide the differences of the others.
            const outcome = await applyManifest({
              client,
              manifest,
              explicitNamespace,
              dryRun: true,
              force: flags.forceConflicts,
              fieldManager: flags.fieldManager,
            }).catch((error: unknown) => {
              context.reportError(error);
              failed = true;
              return undefined;
            });
            if (outcome === undefined) continue;
            const { type, applied } = outcome;
            const label = [
              apiVersionOf(type).replace('/', '.'),
              type.kind,
              applied.metadata.namespace,
              applied.metadata.name,
            ]
              .filter((part) => part !== undefined && part !== '')
              .join('.');
            const text = unifiedDiff({
              oldText: outcome.live === undefined ? '' : comparableYaml(outcome.live),
              newText: comparableYaml(applied),
              oldLabel: `live/${label}`,
              newLabel: `merged/${label}`,
            });
            if (text !== '') {
              differs = true;
              context.io.write(`diff -u -N live/${label} merged/${label}\n${text}`);
            }
          }
        } catch (error) {
          context.reportError(error);
          failed = true;
        }
        context.exitCode = failed ? EXIT_DIFF_FAILED : differs ? 1 : 0;
      },
    );
}

/** managedFields change on every apply and say nothing about the object itself; leave them out. */
function comparableYaml(object: KubeObject): string {
  const { managedFields: _managedFields, ...metadata } = object.metadata;
  return formatValue(sortKeys({ ...object, metadata }), 'yaml');
}
