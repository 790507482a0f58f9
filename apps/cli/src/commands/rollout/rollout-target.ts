// What the rollout commands share: which deployment the arguments name, and its ReplicaSets.
import type { Command } from 'commander';
import {
  labelSelectorMatcher,
  resolveResourceName,
  type KubeObject,
  type LabelSelector,
  type ResourceType,
} from '@flotilla/api';
import type { RestClient } from '@flotilla/client';
import { CliError, EXIT_USAGE, globalOptions, type CliContext } from '../../cli-context';
import { parseResourceArgs } from '../../resources/resource-args';
import { revisionHistory, type RevisionEntry } from './rollout-revisions.util';

export interface DeploymentTarget {
  readonly client: RestClient;
  readonly type: ResourceType;
  readonly namespace: string;
  readonly name: string;
}

/** Every deployment the arguments name (deployment/NAME or deployment NAME...). */
export function deploymentTargets(
  context: CliContext,
  command: Command,
  args: readonly string[],
): DeploymentTarget[] {
  const selections = parseResourceArgs(args);
  for (const { type, names } of selections) {
    if (type.kind !== 'Deployment') {
      throw new CliError(`rollout works on deployments, not ${type.plural}`, EXIT_USAGE);
    }
    if (names.length === 0) throw new CliError('say which deployment: deployment/NAME', EXIT_USAGE);
  }
  if (selections.length === 0) throw new CliError('say which deployment: deployment/NAME', EXIT_USAGE);
  const client = context.client(command);
  const namespace = globalOptions(command).namespace ?? client.defaultNamespace;
  return selections.flatMap(({ type, names }) => names.map((name) => ({ client, type, namespace, name })));
}

export function resourceType(name: string): ResourceType {
  const type = resolveResourceName(name);
  if (!type) throw new Error(`@flotilla/api has no ${name}`);
  return type;
}

export function selectorText(selector: LabelSelector | undefined): string {
  return labelSelectorMatcher(selector ?? {}).toString();
}

/** The deployment's revisions, read from the ReplicaSets it controls. */
export async function readHistory(
  target: DeploymentTarget,
  deployment: KubeObject,
): Promise<RevisionEntry[]> {
  const spec = deployment['spec'] as { selector?: LabelSelector } | undefined;
  const list = await target.client.listAll(resourceType('replicasets'), {
    namespace: target.namespace,
    labelSelector: selectorText(spec?.selector),
  });
  return revisionHistory(deployment, list.items);
}
