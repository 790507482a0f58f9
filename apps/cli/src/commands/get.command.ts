// `flotilla get`: tables with kubectl's columns per kind, or -o yaml|json|name, optionally following
// changes with -w.
import { Command, Option } from 'commander';
import type { KubeObject, ResourceType } from '@flotilla/api';
import { isGone, isNotFound, type RestClient } from '@flotilla/client';
import { CliError, EXIT_USAGE, globalOptions, type CliContext } from '../cli-context';
import { renderJsonPath, parseTemplate } from '../output/jsonpath';
import {
  formatObjects,
  formatValue,
  listOrObject,
  withTypeMeta,
  type TypedObject,
} from '../output/object.printer';
import { renderTable, resourceTable, type Table } from '@flotilla/printers';
import { parseResourceArgs, type ResourceSelection } from '../resources/resource-args';

type OutputFormat = 'table' | 'wide' | 'yaml' | 'json' | 'name' | `jsonpath=${string}`;
const NAMED_FORMATS = ['wide', 'yaml', 'json', 'name'];

interface GetFlags {
  readonly output: OutputFormat;
  readonly selector?: string;
  readonly fieldSelector?: string;
  readonly allNamespaces: boolean;
  readonly watch: boolean;
  readonly watchOnly: boolean;
  readonly headers: boolean;
  readonly showLabels: boolean;
}

export function createGetCommand(context: CliContext): Command {
  return new Command('get')
    .description('list objects, or show some by name')
    .argument('<resources...>', 'TYPE [NAME...], TYPE/NAME..., TYPE1,TYPE2 or all')
    .addOption(
      new Option(
        '-o, --output <format>',
        'wide, yaml, json, name or jsonpath=TEMPLATE (e.g. {.spec.replicas})',
      )
        .argParser(parseOutputFormat)
        .default('table', 'a table'),
    )
    .option('-l, --selector <selector>', 'only objects whose labels match, e.g. app=web,tier!=cache')
    .option('--field-selector <selector>', 'only objects whose fields match, e.g. status.phase=Running')
    .option('-A, --all-namespaces', 'list across every namespace', false)
    .option('-w, --watch', 'after listing, print every change until interrupted', false)
    .option('--watch-only', 'print changes only, without the initial list', false)
    .option('--no-headers', 'leave out table headers')
    .option('--show-labels', 'add a LABELS column to tables', false)
    .action(async (args: string[], flags: GetFlags, command: Command) => {
      const selections = parseResourceArgs(args);
      const client = context.client(command);
      const namespace = globalOptions(command).namespace ?? client.defaultNamespace;
      if (flags.watch || flags.watchOnly) {
        const [only] = selections;
        if (selections.length !== 1 || only === undefined || only.names.length > 1) {
          throw new CliError('-w watches one resource type (and at most one name) at a time', EXIT_USAGE);
        }
        await watchSelection({ context, client, selection: only, flags, namespace });
        return;
      }
      const found = await fetchSelections({ context, client, selections, flags });
      printObjects({ context, selections, found, flags, namespace });
    });
}

interface FoundObjects {
  readonly type: ResourceType;
  readonly objects: KubeObject[];
}

async function fetchSelections(options: {
  readonly context: CliContext;
  readonly client: RestClient;
  readonly selections: readonly ResourceSelection[];
  readonly flags: GetFlags;
}): Promise<FoundObjects[]> {
  const { context, client, flags } = options;
  const found: FoundObjects[] = [];
  for (const { type, names } of options.selections) {
    if (names.length === 0) {
      const list = await client.listAll(type, {
        allNamespaces: flags.allNamespaces,
        labelSelector: flags.selector,
        fieldSelector: flags.fieldSelector,
      });
      const items = type.kind === 'Event' ? [...list.items].sort(byEventTime) : list.items;
      found.push({ type, objects: items.map((item) => withTypeMeta(type, item)) });
      continue;
    }
    const objects: KubeObject[] = [];
    for (const name of names) {
      try {
        objects.push(withTypeMeta(type, await client.get(type, name)));
      } catch (error) {
        if (!isNotFound(error)) throw error;
        context.reportError(error);
      }
    }
    found.push({ type, objects });
  }
  return found;
}

/** Events oldest first by when they last happened, as `kubectl get events` sorts them. */
function byEventTime(a: KubeObject, b: KubeObject): number {
  const time = (event: KubeObject): number => {
    for (const field of ['lastTimestamp', 'eventTime', 'firstTimestamp']) {
      const value = Date.parse(String(event[field] ?? ''));
      if (Number.isFinite(value)) return value;
    }
    return Date.parse(event.metadata.creationTimestamp ?? '') || 0;
  };
  return time(a) - time(b);
}

function printObjects(options: {
  readonly context: CliContext;
  readonly selections: readonly ResourceSelection[];
  readonly found: readonly FoundObjects[];
  readonly flags: GetFlags;
  readonly namespace: string;
}): void {
  const { context, found, flags } = options;
  const byName = options.selections.some((s) => s.names.length > 0);
  const total = found.reduce((sum, f) => sum + f.objects.length, 0);
  const template = jsonPathTemplate(flags.output);
  if (template !== undefined) {
    const typed = found.flatMap(({ type, objects }) => objects.map((object) => ({ type, object })));
    context.io.write(renderJsonPath(template, listOrObject(typed, !byName || typed.length !== 1)));
    return;
  }
  if (flags.output === 'yaml' || flags.output === 'json' || flags.output === 'name') {
    const typed: TypedObject[] = found.flatMap(({ type, objects }) =>
      objects.map((object) => ({ type, object })),
    );
    if (typed.length > 0 || flags.output !== 'name') {
      context.io.write(formatObjects(typed, flags.output, { asList: !byName || typed.length !== 1 }));
    }
    return;
  }
  if (total === 0) {
    if (!byName) {
      context.io.writeError(
        flags.allNamespaces
          ? 'No resources found\n'
          : `No resources found in ${options.namespace} namespace.\n`,
      );
    }
    return;
  }
  const tables = found
    .filter(({ objects }) => objects.length > 0)
    .map(({ type, objects }) =>
      renderTable(
        withLabels(
          resourceTable(type, objects, {
            wide: flags.output === 'wide',
            now: context.io.now(),
            withNamespace: flags.allNamespaces && type.namespaced,
            withKind: found.length > 1,
          }),
          objects,
          flags.showLabels,
        ),
        { noHeaders: !flags.headers },
      ),
    );
  context.io.write(tables.join('\n'));
}

async function watchSelection(options: {
  readonly context: CliContext;
  readonly client: RestClient;
  readonly selection: ResourceSelection;
  readonly flags: GetFlags;
  readonly namespace: string;
}): Promise<void> {
  const { context, client, selection, flags } = options;
  const { type } = selection;
  const name = selection.names[0];
  const fieldSelector = [name !== undefined ? `metadata.name=${name}` : undefined, flags.fieldSelector]
    .filter((part): part is string => part !== undefined)
    .join(',');
  const scope = {
    allNamespaces: flags.allNamespaces,
    labelSelector: flags.selector,
    fieldSelector: fieldSelector === '' ? undefined : fieldSelector,
  };
  const list = await client.listAll(type, scope);
  let printedHeaders = !flags.headers;
  const print = (objects: KubeObject[]): void => {
    if (objects.length === 0) return;
    const typed = objects.map((object) => withTypeMeta(type, object));
    const template = jsonPathTemplate(flags.output);
    if (template !== undefined) {
      for (const object of typed) context.io.write(renderJsonPath(template, object));
      return;
    }
    if (flags.output === 'yaml' || flags.output === 'json') {
      // One document per change, so a reader can split the stream.
      for (const object of typed) {
        context.io.write(
          flags.output === 'yaml' ? `---\n${formatValue(object, 'yaml')}` : formatValue(object, 'json'),
        );
      }
      return;
    }
    if (flags.output === 'name') {
      context.io.write(
        formatObjects(
          typed.map((object) => ({ type, object })),
          'name',
          { asList: true },
        ),
      );
      return;
    }
    const table = withLabels(
      resourceTable(type, typed, {
        wide: flags.output === 'wide',
        now: context.io.now(),
        withNamespace: flags.allNamespaces && type.namespaced,
        withKind: false,
      }),
      typed,
      flags.showLabels,
    );
    context.io.write(renderTable(table, { noHeaders: printedHeaders }));
    printedHeaders = true;
  };
  if (!flags.watchOnly) print(list.items);

  try {
    for await (const event of client.watch(type, {
      ...scope,
      resourceVersion: list.metadata.resourceVersion,
      signal: context.io.signal,
      maxConsecutiveFailures: 5,
    })) {
      if (event.type === 'BOOKMARK') continue;
      print([event.object]);
    }
  } catch (error) {
    if (isGone(error)) {
      throw new CliError('the watch fell too far behind the server and expired: run the command again');
    }
    throw error;
  }
}

function parseOutputFormat(value: string): OutputFormat {
  if (NAMED_FORMATS.includes(value)) return value as OutputFormat;
  if (value.startsWith('jsonpath=')) {
    try {
      parseTemplate(value.slice('jsonpath='.length));
    } catch (error) {
      throw new CliError(error instanceof Error ? error.message : String(error), EXIT_USAGE);
    }
    return value as OutputFormat;
  }
  throw new CliError(
    `unknown output format "${value}": use wide, yaml, json, name or jsonpath=TEMPLATE`,
    EXIT_USAGE,
  );
}

/** --show-labels: kubectl's last column, "key=value,..." or <none>. */
function withLabels(table: Table, objects: readonly KubeObject[], show: boolean): Table {
  if (!show) return table;
  return {
    headers: [...table.headers, 'LABELS'],
    rows: table.rows.map((row, index) => {
      const labels = Object.entries(objects[index]?.metadata.labels ?? {}).map(
        ([key, value]) => `${key}=${value}`,
      );
      return [...row, labels.length > 0 ? labels.join(',') : '<none>'];
    }),
  };
}

function jsonPathTemplate(output: OutputFormat): string | undefined {
  return output.startsWith('jsonpath=') ? output.slice('jsonpath='.length) : undefined;
}
