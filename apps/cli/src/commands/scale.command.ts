// `flotilla scale deployment/web --replicas=5`: writes the scale subresource, optionally only if the
// current size is what the caller expects (--current-replicas), as kubectl does.
import { Command } from 'commander';
import { isConflict } from '@flotilla/client';
import { qualifiedName } from '@flotilla/printers';
import { CliError, EXIT_USAGE, type CliContext } from '../cli-context';
import { parseResourceArgs } from '../resources/resource-args';

interface Scale {
  readonly metadata: { readonly name?: string; readonly resourceVersion?: string };
  readonly spec?: { readonly replicas?: number };
}

export function createScaleCommand(context: CliContext): Command {
  return new Command('scale')
    .description('set the number of replicas of deployments or replica sets')
    .argument('<resources...>', 'TYPE/NAME... or TYPE NAME...')
    .requiredOption('--replicas <count>', 'the new number of replicas', replicaCount)
    .option('--current-replicas <count>', 'only scale if the size is currently this', replicaCount)
    .action(
      async (args: string[], flags: { replicas: number; currentReplicas?: number }, command: Command) => {
        const selections = parseResourceArgs(args);
        for (const { type, names } of selections) {
          if (!type.subresources.includes('scale')) {
            throw new CliError(
              `${type.plural} cannot be scaled; deployments and replicasets can`,
              EXIT_USAGE,
            );
          }
          if (names.length === 0) throw new CliError(`say which ${type.plural} to scale`, EXIT_USAGE);
        }
        const client = context.client(command);
        for (const { type, names } of selections) {
          for (const name of names) {
            const path = client.objectPath(type, name, { subresource: 'scale' });
            try {
              const current = await client.request<Scale>({ method: 'GET', path });
              const replicas = current.spec?.replicas ?? 0;
              if (flags.currentReplicas !== undefined && replicas !== flags.currentReplicas) {
                throw new CliError(
                  `${qualifiedName(type, { metadata: { name } })} has ${replicas} replicas, not ${flags.currentReplicas}: not scaled`,
                );
              }
              // The read version makes the write conditional: a concurrent scale is a conflict, not lost.
              await client.request({
                method: 'PUT',
                path,
                body: {
                  apiVersion: 'autoscaling/v1',
                  kind: 'Scale',
                  metadata: { ...current.metadata, name },
                  spec: { replicas: flags.replicas },
                },
              });
              context.io.write(`${qualifiedName(type, { metadata: { name } })} scaled\n`);
            } catch (error) {
              if (isConflict(error)) {
                context.reportError(new CliError(`${name} changed while scaling it: run the command again`));
              } else {
                context.reportError(error);
              }
            }
          }
        }
      },
    );
}

function replicaCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0) {
    throw new CliError(`"${value}" is not a replica count (a whole number, 0 or more)`, EXIT_USAGE);
  }
  return count;
}
