// `flotilla top nodes|pods`: CPU and memory from metrics.k8s.io, printed as `kubectl top` prints them.
import { Command } from 'commander';
import {
  NODE_METRICS_TYPE,
  POD_METRICS_TYPE,
  resourceTypeForKind,
  type Node,
  type NodeMetrics,
  type PodMetrics,
} from '@flotilla/api';
import { isNotFound, type RestClient } from '@flotilla/client';
import { nodeTopTable, podTopTable, renderTable, type TopSortBy } from '@flotilla/printers';
import { CliError, EXIT_USAGE, globalOptions, type CliContext } from '../cli-context';

const NOT_YET = 'metrics not available yet: the node agents report every 5s';

interface TopFlags {
  readonly selector?: string;
  readonly sortBy?: TopSortBy;
  readonly headers: boolean;
}

interface TopPodFlags extends TopFlags {
  readonly allNamespaces: boolean;
  readonly containers: boolean;
  readonly fieldSelector?: string;
}

function sortBy(value: string): TopSortBy {
  if (value !== 'cpu' && value !== 'memory') {
    throw new CliError(`--sort-by must be cpu or memory, got "${value}"`, EXIT_USAGE);
  }
  return value;
}

function coreType(kind: string) {
  const type = resourceTypeForKind('v1', kind);
  if (!type) throw new Error(`the core kind ${kind} is not registered`);
  return type;
}

/** A named object without metrics reads as "not yet" when the object itself exists. */
async function explainMissing(options: {
  client: RestClient;
  kind: 'Pod' | 'Node';
  name: string;
  namespace?: string;
}): Promise<never> {
  const exists = await options.client
    .get(
      coreType(options.kind),
      options.name,
      options.namespace !== undefined ? { namespace: options.namespace } : {},
    )
    .then(
      () => true,
      (error: unknown) => {
        if (isNotFound(error)) return false;
        throw error;
      },
    );
  if (!exists) {
    const where = options.namespace !== undefined ? ` in namespace ${options.namespace}` : '';
    throw new CliError(`${options.kind.toLowerCase()} "${options.name}" not found${where}`);
  }
  throw new CliError(`${NOT_YET} (${options.kind.toLowerCase()} ${options.name} has no two samples yet)`);
}

function createTopNodesCommand(context: CliContext): Command {
  return new Command('nodes')
    .alias('node')
    .alias('no')
    .description('CPU and memory of nodes, and their share of what the node can allocate')
    .argument('[name]', 'one node')
    .option('-l, --selector <selector>', 'only nodes whose labels match')
    .option('--sort-by <field>', 'cpu or memory, largest first', sortBy)
    .option('--no-headers', 'leave out the header line')
    .action(async (name: string | undefined, flags: TopFlags, command: Command) => {
      const client = context.client(command);
      let metrics: NodeMetrics[];
      let nodes: Node[];
      if (name !== undefined) {
        const one = await client.get<NodeMetrics>(NODE_METRICS_TYPE, name).catch((error: unknown) => {
          if (isNotFound(error)) return explainMissing({ client, kind: 'Node', name });
          throw error;
        });
        metrics = [one];
        nodes = [(await client.get(coreType('Node'), name)) as unknown as Node];
      } else {
        const selector = flags.selector !== undefined ? { labelSelector: flags.selector } : {};
        metrics = (await client.list<NodeMetrics>(NODE_METRICS_TYPE, selector)).items;
        nodes = (await client.list(coreType('Node'), selector)).items as unknown as Node[];
        if (nodes.length === 0) {
          context.io.writeError('No resources found\n');
          return;
        }
        if (metrics.length === 0) throw new CliError(NOT_YET);
      }
      context.io.write(
        renderTable(nodeTopTable({ metrics, nodes, ...(flags.sortBy ? { sortBy: flags.sortBy } : {}) }), {
          noHeaders: !flags.headers,
        }),
      );
    });
}

function createTopPodsCommand(context: CliContext): Command {
  return new Command('pods')
    .alias('pod')
    .alias('po')
    .description('CPU and memory of pods (or of each container with --containers)')
    .argument('[name]', 'one pod')
    .option('-l, --selector <selector>', 'only pods whose labels match, e.g. app=web')
    .option('--field-selector <selector>', 'only pods whose fields match, e.g. metadata.name=web')
    .option('-A, --all-namespaces', 'pods of every namespace', false)
    .option('--containers', 'one line per container', false)
    .option('--sort-by <field>', 'cpu or memory, largest first', sortBy)
    .option('--no-headers', 'leave out the header line')
    .action(async (name: string | undefined, flags: TopPodFlags, command: Command) => {
      const client = context.client(command);
      const namespace = globalOptions(command).namespace ?? client.defaultNamespace;
      if (name !== undefined && flags.allNamespaces) {
        throw new CliError('a pod name cannot be combined with -A: name the namespace with -n', EXIT_USAGE);
      }
      let metrics: PodMetrics[];
      if (name !== undefined) {
        const one = await client
          .get<PodMetrics>(POD_METRICS_TYPE, name, { namespace })
          .catch((error: unknown) => {
            if (isNotFound(error)) return explainMissing({ client, kind: 'Pod', name, namespace });
            throw error;
          });
        metrics = [one];
      } else {
        const options = {
          ...(flags.allNamespaces ? { allNamespaces: true } : { namespace }),
          ...(flags.selector !== undefined ? { labelSelector: flags.selector } : {}),
          ...(flags.fieldSelector !== undefined ? { fieldSelector: flags.fieldSelector } : {}),
        };
        metrics = (await client.list<PodMetrics>(POD_METRICS_TYPE, options)).items;
        if (metrics.length === 0) {
          // No metrics and no pods is an empty namespace; pods without metrics are too new to measure.
          const pods = await client.list(coreType('Pod'), { ...options, limit: 1 });
          if (pods.items.length === 0) {
            context.io.writeError(
              flags.allNamespaces
                ? 'No resources found\n'
                : `No resources found in ${namespace} namespace.\n`,
            );
            return;
          }
          throw new CliError(NOT_YET);
        }
      }
      const table = podTopTable({
        metrics,
        withNamespace: flags.allNamespaces,
        containers: flags.containers,
        ...(flags.sortBy ? { sortBy: flags.sortBy } : {}),
      });
      context.io.write(renderTable(table, { noHeaders: !flags.headers }));
    });
}

export function createTopCommand(context: CliContext): Command {
  return new Command('top')
    .description('CPU and memory use of nodes or pods (metrics.k8s.io, as kubectl top)')
    .addCommand(createTopNodesCommand(context))
    .addCommand(createTopPodsCommand(context));
}
