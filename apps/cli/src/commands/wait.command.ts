// `flotilla wait --for=condition=Available|delete|create`: blocks until every named object gets
// there. An object that does not exist yet is not an error; only the timeout is.
import { Command } from 'commander';
import type { KubeObject, ResourceType } from '@flotilla/api';
import { CliError, EXIT_USAGE, globalOptions, parseDuration, type CliContext } from '../cli-context';
import { at, list, qualifiedName, str } from '@flotilla/printers';
import { waitForObject } from '../resources/object-waiter';
import { parseResourceArgs } from '../resources/resource-args';

type Goal =
  | { readonly kind: 'condition'; readonly condition: string; readonly status: string }
  | { readonly kind: 'delete' }
  | { readonly kind: 'create' };

export function createWaitCommand(context: CliContext): Command {
  return new Command('wait')
    .description('wait for objects to reach a condition, appear, or be deleted')
    .argument('<resources...>', 'TYPE/NAME... or TYPE NAME... (or TYPE with -l)')
    .requiredOption('--for <goal>', 'condition=NAME[=STATUS], delete or create')
    .option('--timeout <duration>', 'how long to wait before failing', '30s')
    .option(
      '-l, --selector <selector>',
      'wait for every object whose labels match (listed once, at the start)',
    )
    .action(
      async (
        args: string[],
        flags: { for: string; timeout: string; selector?: string },
        command: Command,
      ) => {
        const goal = parseGoal(flags.for);
        const timeoutMs = parseDuration(flags.timeout, '--timeout');
        const selections = parseResourceArgs(args);
        const unnamed = selections.find((selection) => selection.names.length === 0);
        if (unnamed && flags.selector === undefined) {
          throw new CliError(
            `say which ${unnamed.type.plural} to wait for: give names or -l SELECTOR`,
            EXIT_USAGE,
          );
        }
        const client = context.client(command);
        const namespace = globalOptions(command).namespace ?? client.defaultNamespace;
        const targets: Array<{ type: ResourceType; name: string; namespace: string }> = [];
        for (const { type, names } of selections) {
          if (names.length > 0) {
            targets.push(...names.map((name) => ({ type, name, namespace })));
            continue;
          }
          const found = await client.listAll(type, { labelSelector: flags.selector });
          if (found.items.length === 0) throw new CliError(`no ${type.plural} match ${flags.selector}`);
          targets.push(...found.items.map((item) => ({ type, name: item.metadata.name ?? '', namespace })));
        }
        const deadline = Date.now() + timeoutMs;
        for (const target of targets) {
          await waitForObject({
            client,
            ...target,
            until: (object) => reached(goal, object),
            timeoutMs: Math.max(0, deadline - Date.now()),
            signal: context.io.signal,
            describeGoal: flags.for,
          });
          context.io.write(
            `${qualifiedName(target.type, { metadata: { name: target.name } })} condition met\n`,
          );
        }
      },
    );
}

export function parseGoal(text: string): Goal {
  if (text === 'delete') return { kind: 'delete' };
  if (text === 'create') return { kind: 'create' };
  const match = /^condition=([^=]+)(?:=(.+))?$/.exec(text);
  if (match?.[1]) return { kind: 'condition', condition: match[1], status: match[2] ?? 'True' };
  throw new CliError(
    `--for=${text} is not understood: use condition=NAME[=STATUS], delete or create`,
    EXIT_USAGE,
  );
}

function reached(goal: Goal, object: KubeObject | undefined): boolean {
  switch (goal.kind) {
    case 'delete':
      return object === undefined;
    case 'create':
      return object !== undefined;
    case 'condition':
      return (
        object !== undefined &&
        list(at(object, 'status', 'conditions')).some(
          (condition) =>
            str(at(condition, 'type')).toLowerCase() === goal.condition.toLowerCase() &&
            str(at(condition, 'status')).toLowerCase() === goal.status.toLowerCase(),
        )
      );
  }
}
