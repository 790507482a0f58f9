// `flotilla apply -f`: server-side apply of every object in the given manifests, reporting each as
// created, configured or unchanged the way kubectl does.
import { Command, Option } from 'commander';
import type { KubeObject, ResourceType } from '@flotilla/api';
import { isNotFound, type RestClient } from '@flotilla/client';
import { CliError, EXIT_USAGE, globalOptions, parseDuration, type CliContext } from '../cli-context';
import { readManifests, type Manifest } from '../manifests/manifest-reader';
import { qualifiedName } from '@flotilla/printers';
import { typeOfObject } from '../resources/resource-args';
import { waitForRollout } from './rollout.command';

export const FIELD_MANAGER = 'flotilla';

interface ApplyFlags {
  readonly filename: string[];
  readonly recursive: boolean;
  readonly dryRun: 'none' | 'server';
  readonly forceConflicts: boolean;
  readonly fieldManager: string;
  readonly wait: boolean;
  readonly timeout: string;
}

export function createApplyCommand(context: CliContext): Command {
  return new Command('apply')
    .description('create or update objects from manifests with server-side apply')
    .addOption(filenameOption('the manifests to apply'))
    .option('-R, --recursive', 'also read manifests in subdirectories of -f directories', false)
    .addOption(dryRunOption())
    .option('--force-conflicts', 'take over fields that another field manager owns', false)
    .option('--field-manager <name>', 'the name recorded as the owner of the applied fields', FIELD_MANAGER)
    .option(
      '--wait',
      'then wait until every applied deployment has rolled out, failing with the exit codes of `rollout status`',
      false,
    )
    .option('--timeout <duration>', 'with --wait: how long all rollouts may take in total', '5m')
    .action(async (flags: ApplyFlags, command: Command) => {
      const timeoutMs = parseDuration(flags.timeout, '--timeout');
      const manifests = await readManifests({
        paths: flags.filename,
        recursive: flags.recursive,
        cwd: context.io.cwd,
        readStdin: () => context.io.readStdin(),
      });
      const client = context.client(command);
      const explicitNamespace = globalOptions(command).namespace;
      const rollouts: ApplyOutcome[] = [];
      for (const manifest of manifests) {
        try {
          const outcome = await applyManifest({
            client,
            manifest,
            explicitNamespace,
            dryRun: flags.dryRun === 'server',
            force: flags.forceConflicts,
            fieldManager: flags.fieldManager,
          });
          const suffix = flags.dryRun === 'server' ? ' (server dry run)' : '';
          context.io.write(`${qualifiedName(outcome.type, outcome.applied)} ${outcome.result}${suffix}\n`);
          if (outcome.type.kind === 'Deployment') rollouts.push(outcome);
        } catch (error) {
          context.reportError(error);
        }
      }
      if (!flags.wait || flags.dryRun === 'server') return;
      // One gate for CI: every deployment applied here must finish its rollout within the timeout.
      const deadline = context.io.now().getTime() + timeoutMs;
      for (const { type, applied } of rollouts) {
        const remaining = timeoutMs > 0 ? Math.max(1, deadline - context.io.now().getTime()) : 0;
        await waitForRollout({
          context,
          target: {
            client,
            type,
            namespace: applied.metadata.namespace ?? client.defaultNamespace,
            name: applied.metadata.name ?? '',
          },
          timeoutMs: remaining,
        });
      }
    });
}

export function filenameOption(description: string): Option {
  return new Option('-f, --filename <path>', `${description} (file, directory or - for stdin; repeatable)`)
    .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .default([]);
}

export function dryRunOption(): Option {
  return new Option('--dry-run [strategy]', 'server: let the server validate and merge without saving')
    .choices(['none', 'server'])
    .preset('server')
    .default('none');
}

export interface ApplyOutcome {
  readonly type: ResourceType;
  readonly live: KubeObject | undefined;
  readonly applied: KubeObject;
  readonly result: 'created' | 'configured' | 'unchanged';
}

/** Applies one manifest; also used by `diff` with dryRun to compute the merged object. */
export async function applyManifest(options: {
  readonly client: RestClient;
  readonly manifest: Manifest;
  readonly explicitNamespace: string | undefined;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly fieldManager: string;
}): Promise<ApplyOutcome> {
  const { client, manifest } = options;
  const type = typeOfObject(manifest.object, manifest.origin);
  const namespace = targetNamespace(type, manifest, options.explicitNamespace, client.defaultNamespace);
  const object: KubeObject = {
    ...manifest.object,
    metadata: { ...manifest.object.metadata, ...(namespace !== undefined ? { namespace } : {}) },
  };
  const name = object.metadata.name ?? '';
  const live = await client.get(type, name, { namespace }).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  const applied = await client.apply(type, object, {
    namespace,
    fieldManager: options.fieldManager,
    force: options.force,
    dryRun: options.dryRun,
  });
  return { type, live, applied, result: classify(live, applied) };
}

function targetNamespace(
  type: ResourceType,
  manifest: Manifest,
  explicitNamespace: string | undefined,
  defaultNamespace: string,
): string | undefined {
  if (!type.namespaced) return undefined;
  const own = manifest.object.metadata.namespace;
  if (own !== undefined && own !== '' && explicitNamespace !== undefined && own !== explicitNamespace) {
    throw new CliError(
      `${manifest.origin}: the object's namespace "${own}" does not match --namespace "${explicitNamespace}": pass --namespace=${own} or remove one of them`,
      EXIT_USAGE,
    );
  }
  return own !== undefined && own !== '' ? own : (explicitNamespace ?? defaultNamespace);
}

function classify(live: KubeObject | undefined, applied: KubeObject): ApplyOutcome['result'] {
  if (live === undefined) return 'created';
  // Content, not resourceVersion: a dry run never bumps it, and a server may rewrite an object
  // (managedFields timestamps) without changing anything the user wrote.
  return JSON.stringify(comparable(live)) === JSON.stringify(comparable(applied))
    ? 'unchanged'
    : 'configured';
}

function comparable(object: KubeObject): unknown {
  const {
    managedFields: _managed,
    resourceVersion: _version,
    generation: _generation,
    ...metadata
  } = object.metadata;
  return sortKeys({ ...object, metadata });
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}
