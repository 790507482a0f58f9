// `flotilla autoscale deploy/web --min 2 --max 10 --cpu-percent 50`: creates an autoscaling/v2
// HorizontalPodAutoscaler for a Deployment or ReplicaSet, as `kubectl autoscale` does (named after
// the target unless --name says otherwise; without --cpu-percent the server's default target, 80 %
// cpu utilization, applies).
import { Command } from 'commander';
import { resolveResourceName, type HorizontalPodAutoscaler, type KubeObject } from '@flotilla/api';
import { isNotFound } from '@flotilla/client';
import { CliError, EXIT_USAGE, type CliContext } from '../cli-context';
import { parseResourceArgs } from '../resources/resource-args';

export interface AutoscaleFlags {
  readonly min?: number;
  readonly max: number;
  readonly cpuPercent?: number;
  readonly name?: string;
}

/** The HPA `kubectl autoscale` would create for a target; throws a usage error for impossible bounds. */
export function autoscalerFor(
  target: {
    readonly kind: string;
    readonly apiVersion: string;
    readonly name: string;
    readonly namespace: string;
  },
  flags: AutoscaleFlags,
): HorizontalPodAutoscaler & KubeObject {
  checkBounds(flags);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: flags.name ?? target.name, namespace: target.namespace },
    spec: {
      scaleTargetRef: { apiVersion: target.apiVersion, kind: target.kind, name: target.name },
      ...(flags.min !== undefined ? { minReplicas: flags.min } : {}),
      maxReplicas: flags.max,
      ...(flags.cpuPercent !== undefined
        ? {
            metrics: [
              {
                type: 'Resource',
                resource: {
                  name: 'cpu',
                  target: { type: 'Utilization', averageUtilization: flags.cpuPercent },
                },
              },
            ],
          }
        : {}),
    },
  };
}

function checkBounds(flags: Pick<AutoscaleFlags, 'min' | 'max'>): void {
  if (flags.min !== undefined && flags.min > flags.max) {
    throw new CliError(`--min (${flags.min}) cannot be more than --max (${flags.max})`, EXIT_USAGE);
  }
}

export function createAutoscaleCommand(context: CliContext): Command {
  return new Command('autoscale')
    .description('create a HorizontalPodAutoscaler that scales a deployment or replica set on cpu usage')
    .argument('<resource...>', 'TYPE/NAME or TYPE NAME, e.g. deploy/web')
    .requiredOption('--max <count>', 'the most replicas the autoscaler may set', count(1))
    .option('--min <count>', 'the fewest replicas the autoscaler may set (default 1)', count(1))
    .option(
      '--cpu-percent <percent>',
      'target average cpu utilization, in percent of the pods’ cpu requests (default 80)',
      count(1),
    )
    .option('--name <name>', 'the name of the HorizontalPodAutoscaler (default: the target’s name)')
    .action(async (args: string[], flags: AutoscaleFlags, command: Command) => {
      // Usage errors before any request, so they never wait on (or hide behind) the cluster.
      checkBounds(flags);
      const selections = parseResourceArgs(args);
      const targets = selections.flatMap(({ type, names }) => {
        if (!type.subresources.includes('scale')) {
          throw new CliError(
            `${type.plural} cannot be autoscaled; deployments and replicasets can`,
            EXIT_USAGE,
          );
        }
        return names.map((name) => ({ type, name }));
      });
      if (targets.length !== 1) {
        throw new CliError(
          'say which one deployment or replica set to autoscale, e.g. deploy/web',
          EXIT_USAGE,
        );
      }
      const [{ type, name }] = targets as [(typeof targets)[number]];
      const client = context.client(command);
      const namespace = client.defaultNamespace;
      try {
        await client.get(type, name, { namespace });
      } catch (error) {
        if (isNotFound(error)) {
          throw new CliError(`${type.plural} "${name}" not found in namespace ${namespace}: create it first`);
        }
        throw error;
      }
      const hpa = autoscalerFor(
        { kind: type.kind, apiVersion: `${type.group}/${type.version}`, name, namespace },
        flags,
      );
      const hpaType = resolveResourceName('horizontalpodautoscalers');
      if (!hpaType) throw new Error('@flotilla/api has no horizontalpodautoscalers');
      await client.create(hpaType, hpa, { namespace, fieldManager: 'flotilla' });
      context.io.write(`horizontalpodautoscaler.autoscaling/${hpa.metadata.name ?? name} autoscaled\n`);
    });
}

function count(minimum: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < minimum) {
      throw new CliError(`"${value}" must be a whole number, ${minimum} or more`, EXIT_USAGE);
    }
    return parsed;
  };
}
