// `flotilla rollout status|restart deployment/NAME`: what CI runs after apply to wait for a rolling
// update to finish (exit 0) or fail (exit 1), with kubectl's progress messages.
import { Command } from 'commander';
import type { KubeObject } from '@flotilla/api';
import { CliError, EXIT_USAGE, globalOptions, parseDuration, type CliContext } from '../cli-context';
import { waitForObject } from '../resources/object-waiter';
import { parseResourceArgs, type ResourceSelection } from '../resources/resource-args';

export interface RolloutState {
  readonly done: boolean;
  readonly message: string;
  /** The rollout cannot finish (progress deadline exceeded). */
  readonly failed?: boolean;
}

export function createRolloutCommand(context: CliContext): Command {
  const rollout = new Command('rollout').description('follow and manage rolling updates of deployments');

  rollout
    .command('status')
    .description('wait until a deployment has rolled out (exit 0) or failed (exit 1)')
    .argument('<resources...>', 'deployment/NAME or deployment NAME')
    .option('--timeout <duration>', 'how long to wait before failing', '5m')
    .option('-w, --watch', 'wait for the rollout to finish (--no-watch: report once)', true)
    .option('--no-watch', 'print the current state once and exit')
    .action(async (args: string[], flags: { timeout: string; watch: boolean }, command: Command) => {
      const [target] = deploymentTargets(args);
      if (target === undefined) return;
      const timeoutMs = parseDuration(flags.timeout, '--timeout');
      const client = context.client(command);
      const namespace = globalOptions(command).namespace ?? client.defaultNamespace;
      const name = target.names[0] ?? '';
      let lastMessage = '';
      let state: RolloutState | undefined;
      await waitForObject({
        client,
        type: target.type,
        namespace,
        name,
        timeoutMs,
        signal: context.io.signal,
        describeGoal: 'the rollout',
        until: (object) => {
          // Not there yet: maybe it is about to be applied; keep waiting.
          if (object === undefined) return !flags.watch;
          state = rolloutState(object);
          if (state.message !== lastMessage) {
            context.io.write(`${state.message}\n`);
            lastMessage = state.message;
          }
          return state.done || state.failed === true || !flags.watch;
        },
      });
      if (state === undefined) throw new CliError(`deployments.apps "${name}" not found`);
      if (state.failed) throw new CliError(state.message);
    });

  rollout
    .command('restart')
    .description("replace a deployment's pods by rolling update, without changing its spec")
    .argument('<resources...>', 'deployment/NAME or deployment NAME')
    .action(async (args: string[], _flags: unknown, command: Command) => {
      const client = context.client(command);
      for (const { type, names } of deploymentTargets(args)) {
        for (const name of names) {
          // A changed pod-template annotation is a new revision; this is what kubectl writes too.
          const patch = {
            spec: {
              template: {
                metadata: {
                  annotations: { 'kubectl.kubernetes.io/restartedAt': context.io.now().toISOString() },
                },
              },
            },
          };
          await client.patch(type, name, patch, { patchType: 'strategic', fieldManager: 'flotilla-rollout' });
          context.io.write(`deployment.apps/${name} restarted\n`);
        }
      }
    });

  return rollout;
}

function deploymentTargets(args: readonly string[]): ResourceSelection[] {
  const selections = parseResourceArgs(args);
  for (const { type, names } of selections) {
    if (type.kind !== 'Deployment') {
      throw new CliError(`rollout works on deployments, not ${type.plural}`, EXIT_USAGE);
    }
    if (names.length === 0) throw new CliError('say which deployment: deployment/NAME', EXIT_USAGE);
  }
  return selections;
}

/** Where a deployment's rollout stands, judged from its status as the controller reports it. */
export function rolloutState(deployment: KubeObject): RolloutState {
  const name = deployment.metadata.name ?? '';
  const spec = (deployment['spec'] ?? {}) as { replicas?: number };
  const status = (deployment['status'] ?? {}) as {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: Array<{ type?: string; reason?: string }>;
  };
  const generation = deployment.metadata.generation ?? 0;
  if ((status.observedGeneration ?? 0) < generation) {
    return { done: false, message: 'Waiting for deployment spec update to be observed...' };
  }
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { done: false, failed: true, message: `deployment "${name}" exceeded its progress deadline` };
  }
  const desired = spec.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const waiting = `Waiting for deployment "${name}" rollout to finish: `;
  if (updated < desired) {
    return {
      done: false,
      message: `${waiting}${updated} out of ${desired} new replicas have been updated...`,
    };
  }
  if (total > updated) {
    return { done: false, message: `${waiting}${total - updated} old replicas are pending termination...` };
  }
  if (available < updated) {
    return { done: false, message: `${waiting}${available} of ${updated} updated replicas are available...` };
  }
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}
