// `flotilla rollout history deploy/NAME [--revision N]`: the revisions kept in the deployment's
// ReplicaSets with their change causes, or one revision's pod template, in kubectl's layout.
import { Command } from 'commander';
import type { PodTemplateSpec } from '@flotilla/api';
import { CliError, EXIT_USAGE, type CliContext } from '../../cli-context';
import { deploymentTargets, readHistory } from './rollout-target';

export function createRolloutHistoryCommand(context: CliContext): Command {
  return new Command('history')
    .description("list a deployment's revisions, or show one with --revision")
    .argument('<resources...>', 'deployment/NAME or deployment NAME')
    .option('--revision <n>', 'show the pod template of this revision', revisionNumber, 0)
    .action(async (args: string[], flags: { revision: number }, command: Command) => {
      for (const target of deploymentTargets(context, command, args)) {
        const deployment = await target.client.get(target.type, target.name, { namespace: target.namespace });
        const history = await readHistory(target, deployment);
        if (flags.revision > 0) {
          const entry = history.find((candidate) => candidate.revision === flags.revision);
          if (!entry?.template) throw new CliError(`unable to find the specified revision ${flags.revision}`);
          context.io.write(`deployment.apps/${target.name} with revision #${entry.revision}\n`);
          context.io.write(describeTemplate(entry.template));
          continue;
        }
        const rows = history.map((entry) => [String(entry.revision), entry.changeCause ?? '<none>']);
        const width = Math.max('REVISION'.length, ...rows.map(([revision]) => (revision ?? '').length)) + 2;
        context.io.write(`deployment.apps/${target.name} \n`);
        context.io.write(`${'REVISION'.padEnd(width)}CHANGE-CAUSE\n`);
        for (const [revision, cause] of rows)
          context.io.write(`${(revision ?? '').padEnd(width)}${cause ?? ''}\n`);
        context.io.write('\n');
      }
    });
}

function revisionNumber(value: string): number {
  const revision = Number(value);
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new CliError(`--revision "${value}" is not a revision number (1, 2, ...)`, EXIT_USAGE);
  }
  return revision;
}

/** kubectl's "Pod Template:" section, for the fields a rollout changes. */
export function describeTemplate(template: PodTemplateSpec): string {
  const lines = ['Pod Template:'];
  const map = (label: string, values: Record<string, string> | undefined, separator: string): void => {
    const entries = Object.entries(values ?? {});
    if (entries.length === 0) return void lines.push(`  ${label}:\t<none>`);
    entries.forEach(([key, value], index) =>
      lines.push(`${index === 0 ? `  ${label}:\t` : '\t'}${key}${separator}${value}`),
    );
  };
  map('Labels', template.metadata?.labels, '=');
  map('Annotations', template.metadata?.annotations, ': ');
  lines.push('  Containers:');
  for (const container of template.spec.containers) {
    lines.push(`   ${container.name}:`);
    lines.push(`    Image:\t${container.image ?? '<none>'}`);
    const ports = (container.ports ?? []).map((port) => `${port.containerPort}/${port.protocol ?? 'TCP'}`);
    lines.push(`    Port:\t${ports.length > 0 ? ports.join(', ') : '<none>'}`);
    if (container.command)
      lines.push(`    Command:\n${container.command.map((part) => `      ${part}`).join('\n')}`);
    if (container.args) lines.push(`    Args:\n${container.args.map((part) => `      ${part}`).join('\n')}`);
    const env = (container.env ?? []).map(
      (variable) => `      ${variable.name}:\t${variable.value ?? '<set from a source>'}`,
    );
    lines.push(env.length > 0 ? `    Environment:\n${env.join('\n')}` : '    Environment:\t<none>');
  }
  const volumes = (template.spec.volumes ?? []).map((volume) => volume.name);
  lines.push(`  Volumes:\t${volumes.length > 0 ? volumes.join(', ') : '<none>'}`);
  return `${lines.join('\n')}\n\n`;
}
