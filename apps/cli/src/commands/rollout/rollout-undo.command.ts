// `flotilla rollout undo deploy/NAME [--to-revision N]`: what kubectl 1.32 does, client-side: the
// template of the chosen revision's ReplicaSet is patched back into the deployment (JSON patch), and
// the deployment controller then rolls it out as the next revision.
import { Command } from 'commander';
import { CliError, EXIT_USAGE, type CliContext } from '../../cli-context';
import { deploymentTargets, readHistory } from './rollout-target';
import { sameTemplate, undoPatch, undoTarget } from './rollout-revisions.util';
import type { PodTemplateSpec } from '@flotilla/api';

export function createRolloutUndoCommand(context: CliContext): Command {
  return new Command('undo')
    .description('roll a deployment back to its previous revision, or to --to-revision')
    .argument('<resources...>', 'deployment/NAME or deployment NAME')
    .option(
      '--to-revision <n>',
      'the revision to go back to (default: the one before the current)',
      toRevision,
      0,
    )
    .action(async (args: string[], flags: { toRevision: number }, command: Command) => {
      for (const target of deploymentTargets(context, command, args)) {
        const deployment = await target.client.get(target.type, target.name, { namespace: target.namespace });
        const spec = deployment['spec'] as { paused?: boolean; template?: PodTemplateSpec };
        if (spec.paused) {
          throw new CliError(
            "you cannot rollback a paused deployment; resume it first with 'flotilla rollout resume' and try again",
          );
        }
        const history = await readHistory(target, deployment);
        let chosen;
        try {
          chosen = undoTarget(history, flags.toRevision, target.name);
        } catch (error) {
          throw new CliError(error instanceof Error ? error.message : String(error));
        }
        if (sameTemplate(chosen.template, spec.template)) {
          context.io.write(
            `deployment.apps/${target.name} skipped rollback (current template already matches revision ${chosen.revision})\n`,
          );
          continue;
        }
        await target.client.patch(target.type, target.name, undoPatch(deployment, chosen), {
          namespace: target.namespace,
          patchType: 'json',
          fieldManager: 'flotilla-rollout',
        });
        context.io.write(`deployment.apps/${target.name} rolled back\n`);
      }
    });
}

function toRevision(value: string): number {
  const revision = Number(value);
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new CliError(
      `--to-revision "${value}" is not a revision number (0 for the previous one)`,
      EXIT_USAGE,
    );
  }
  return revision;
}
