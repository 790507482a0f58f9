// `flotilla describe`: a readable summary of objects with the events recorded about them, oldest first.
import { Command } from 'commander';
import { resolveResourceName, type KubeObject, type ResourceType } from '@flotilla/api';
import { isNotFound, type RestClient } from '@flotilla/client';
import type { CliContext } from '../cli-context';
import { describeObject } from '../output/describe.printer';
import { parseResourceArgs } from '../resources/resource-args';

export function createDescribeCommand(context: CliContext): Command {
  return new Command('describe')
    .description('show details of objects and their events')
    .argument('<resources...>', 'TYPE [NAME...] or TYPE/NAME...')
    .option('-l, --selector <selector>', 'describe the objects whose labels match')
    .option('-A, --all-namespaces', 'look in every namespace', false)
    .action(
      async (args: string[], flags: { selector?: string; allNamespaces: boolean }, command: Command) => {
        const client = context.client(command);
        const described: string[] = [];
        for (const { type, names } of parseResourceArgs(args)) {
          const objects: KubeObject[] = [];
          if (names.length === 0) {
            const list = await client.listAll(type, {
              allNamespaces: flags.allNamespaces,
              labelSelector: flags.selector,
            });
            objects.push(...list.items.map((item) => ({ ...item, kind: item.kind || type.kind })));
          }
          for (const name of names) {
            try {
              objects.push(await client.get(type, name));
            } catch (error) {
              if (!isNotFound(error)) throw error;
              context.reportError(error);
            }
          }
          for (const object of objects) {
            const events = await eventsFor(client, type, object);
            described.push(describeObject(object, events, context.io.now()));
          }
        }
        if (described.length === 0 && context.exitCode === 0) {
          context.io.writeError('No resources found.\n');
          return;
        }
        context.io.write(described.join('\n\n'));
      },
    );
}

async function eventsFor(client: RestClient, type: ResourceType, object: KubeObject): Promise<KubeObject[]> {
  const eventType = resolveResourceName('events');
  if (!eventType) return [];
  const selector = [`involvedObject.name=${object.metadata.name ?? ''}`, `involvedObject.kind=${type.kind}`];
  if (object.metadata.namespace) selector.push(`involvedObject.namespace=${object.metadata.namespace}`);
  const list = await client.listAll(eventType, {
    namespace: object.metadata.namespace,
    allNamespaces: !type.namespaced,
    fieldSelector: selector.join(','),
  });
  // Older servers may ignore the uid; match it here so a re-created object does not inherit old events.
  return list.items.filter((event) => {
    const uid = (event['involvedObject'] as { uid?: unknown } | undefined)?.uid;
    return uid === undefined || uid === '' || uid === object.metadata.uid;
  });
}
