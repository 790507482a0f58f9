// `flotilla rollout pause|resume deploy/NAME`: a paused deployment keeps its pods and sizes but rolls
// out no template change until resumed (so several changes go out as one revision).
import { Command } from 'commander';
import { CliError, type CliContext } from '../../cli-context';
import { deploymentTargets } from './rollout-target';

export function createRolloutPauseCommand(context: CliContext, pause: boolean): Command {
  const verb = pause ? 'pause' : 'resume';
  return new Command(verb)
    .description(
      pause ? 'stop rolling out template changes of a deployment' : 'roll out a paused deployment again',
    )
    .argument('<resources...>', 'deployment/NAME or deployment NAME')
    .action(async (args: string[], _flags: unknown, command: Command) => {
      for (const target of deploymentTargets(context, command, args)) {
        const deployment = await target.client.get(target.type, target.name, { namespace: target.namespace });
        const paused = (deployment['spec'] as { paused?: boolean }).paused === true;
        if (paused === pause) {
          context.reportError(
            new CliError(`deployments.apps "${target.name}" is ${pause ? 'already' : 'not'} paused`),
          );
          continue;
        }
        await target.client.patch(
          target.type,
          target.name,
          { spec: { paused: pause } },
          { namespace: target.namespace, patchType: 'merge', fieldManager: 'flotilla-rollout' },
        );
        context.io.write(`deployment.apps/${target.name} ${pause ? 'paused' : 'resumed'}\n`);
      }
    });
}
