// `flotilla rollout status|history|undo|pause|resume|restart deployment/NAME`: what CI runs after apply
// to wait for a rolling update to finish or fail (with kubectl's progress messages and distinct exit
// codes), and the commands that manage revisions. One file per subcommand under rollout/.
import { Command } from 'commander';
import type { KubeObject, LabelSelector, Pod, PodTemplateSpec } from '@flotilla/api';
import { CliError, parseDuration, type CliContext } from '../cli-context';
import { waitForObject } from '../resources/object-waiter';
import { describeFailure, firstPodFailure, type PodFailure } from './rollout/rollout-failure.util';
import { createRolloutHistoryCommand } from './rollout/rollout-history.command';
import { createRolloutPauseCommand } from './rollout/rollout-pause.command';
import { sameTemplate } from './rollout/rollout-revisions.util';
import {
  deploymentTargets,
  readHistory,
  resourceType,
  selectorText,
  type DeploymentTarget,
} from './rollout/rollout-target';
import { createRolloutUndoCommand } from './rollout/rollout-undo.command';

/** `rollout status` exit codes beyond 0 (rolled out), 1 (other failure) and 2 (usage). */
export const EXIT_ROLLOUT_TIMEOUT = 3;
export const EXIT_PROGRESS_DEADLINE = 4;
export const EXIT_PODS_FAILING = 5;

export interface RolloutState {
  readonly done: boolean;
  readonly message: string;
  /** The rollout cannot finish (progress deadline exceeded). */
  readonly failed?: boolean;
}

const STATUS_HELP = `
Exit codes:
  0  the rollout finished: every replica updated and available
  1  another failure (the deployment does not exist, the apiserver cannot be reached)
  2  the command line is wrong
  ${EXIT_ROLLOUT_TIMEOUT}  --timeout passed before the rollout finished
  ${EXIT_PROGRESS_DEADLINE}  the deployment exceeded its progressDeadlineSeconds (Progressing=False)
  ${EXIT_PODS_FAILING}  a new pod is failing (CrashLoopBackOff, ErrImagePull, ImagePullBackOff, a container
     that cannot be created, or --readiness-failures failed readiness probes): the pod, the container and
     the reason are named, without waiting for the deadline (--no-fail-fast waits, as kubectl does)
`;

export function createRolloutCommand(context: CliContext): Command {
  const rollout = new Command('rollout').description('follow and manage rolling updates of deployments');

  rollout
    .command('status')
    .description('wait until a deployment has rolled out (exit 0) or failed (exit codes below)')
    .argument('<resources...>', 'deployment/NAME or deployment NAME')
    .option('--timeout <duration>', 'how long to wait before failing (0: no limit)', '5m')
    .option('-w, --watch', 'wait for the rollout to finish (--no-watch: report once)', true)
    .option('--no-watch', 'print the current state once and exit')
    .option('--fail-fast', 'stop as soon as a new pod is failing', true)
    .option('--no-fail-fast', 'wait for the progress deadline even when new pods are failing')
    .option(
      '--readiness-failures <n>',
      'failed readiness probes of one new pod that count as failing',
      positive,
      3,
    )
    .addHelpText('after', STATUS_HELP)
    .action(
      async (
        args: string[],
        flags: { timeout: string; watch: boolean; failFast: boolean; readinessFailures: number },
        command: Command,
      ) => {
        const [target] = deploymentTargets(context, command, args);
        if (target === undefined) return;
        const timeoutMs = parseDuration(flags.timeout, '--timeout');
        await followRollout({ context, target, timeoutMs, ...flags });
      },
    );

  rollout.addCommand(createRolloutHistoryCommand(context));
  rollout.addCommand(createRolloutUndoCommand(context));
  rollout.addCommand(createRolloutPauseCommand(context, true));
  rollout.addCommand(createRolloutPauseCommand(context, false));

  rollout
    .command('restart')
    .description("replace a deployment's pods by rolling update, without changing its spec")
    .argument('<resources...>', 'deployment/NAME or deployment NAME')
    .action(async (args: string[], _flags: unknown, command: Command) => {
      for (const { client, type, namespace, name } of deploymentTargets(context, command, args)) {
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
        await client.patch(type, name, patch, {
          namespace,
          patchType: 'strategic',
          fieldManager: 'flotilla-rollout',
        });
        context.io.write(`deployment.apps/${name} restarted\n`);
      }
    });

  return rollout;
}

interface FollowOptions {
  readonly context: CliContext;
  readonly target: DeploymentTarget;
  readonly timeoutMs: number;
  readonly watch: boolean;
  readonly failFast: boolean;
  readonly readinessFailures: number;
}

const POD_CHECK_INTERVAL_MS = 1000;

/** `rollout status` for one deployment, as `apply --wait` runs it: progress lines, the same exit codes. */
export function waitForRollout(options: {
  readonly context: CliContext;
  readonly target: DeploymentTarget;
  readonly timeoutMs: number;
}): Promise<void> {
  return followRollout({ ...options, watch: true, failFast: true, readinessFailures: 3 });
}

/** Prints progress lines until the rollout finishes, fails, or the timeout passes. */
async function followRollout(options: FollowOptions): Promise<void> {
  const { context, target } = options;
  const stop = new AbortController();
  const onInterrupt = (): void => stop.abort();
  context.io.signal.addEventListener('abort', onInterrupt, { once: true });
  let ended: 'timeout' | 'pods' | undefined;
  let failure: PodFailure | undefined;
  let lastMessage = '';
  let state: RolloutState | undefined;
  let latest: KubeObject | undefined;
  const timer =
    options.timeoutMs > 0
      ? setTimeout(() => {
          ended = 'timeout';
          stop.abort();
        }, options.timeoutMs)
      : undefined;
  // Pod failures are not in the deployment's status: look at the new pods beside the watch.
  let checking = false;
  const checkPods = async (): Promise<void> => {
    if (!options.failFast || !latest || checking || state?.done) return;
    checking = true;
    try {
      failure = await newPodFailure(target, latest, options.readinessFailures);
      if (failure) {
        ended = 'pods';
        stop.abort();
      }
    } catch {
      // A failed look is retried on the next tick; the watch decides the outcome meanwhile.
    } finally {
      checking = false;
    }
  };
  const poller = options.watch ? setInterval(() => void checkPods(), POD_CHECK_INTERVAL_MS) : undefined;
  try {
    await waitForObject({
      client: target.client,
      type: target.type,
      namespace: target.namespace,
      name: target.name,
      timeoutMs: 2 ** 31 - 1,
      signal: stop.signal,
      describeGoal: 'the rollout',
      until: (object) => {
        // Not there yet: maybe it is about to be applied; keep waiting.
        if (object === undefined) return !options.watch;
        latest = object;
        state = rolloutState(object);
        if (state.message !== lastMessage) {
          context.io.write(`${state.message}\n`);
          lastMessage = state.message;
        }
        return state.done || state.failed === true || !options.watch;
      },
    });
  } catch (error) {
    if (ended === 'pods' && failure)
      throw new CliError(describeFailure(target.name, failure), EXIT_PODS_FAILING);
    if (ended === 'timeout') {
      throw new CliError(
        `timed out waiting for deployment "${target.name}" to roll out${lastMessage ? ` (last: ${lastMessage})` : ''}`,
        EXIT_ROLLOUT_TIMEOUT,
      );
    }
    throw error;
  } finally {
    if (timer) clearTimeout(timer);
    if (poller) clearInterval(poller);
    context.io.signal.removeEventListener('abort', onInterrupt);
  }
  if (state === undefined) throw new CliError(`deployments.apps "${target.name}" not found`);
  if (state.failed) throw new CliError(state.message, EXIT_PROGRESS_DEADLINE);
}

/** The first failing pod of the deployment's new ReplicaSet, if any. */
async function newPodFailure(
  target: DeploymentTarget,
  deployment: KubeObject,
  readinessFailures: number,
): Promise<PodFailure | undefined> {
  const spec = deployment['spec'] as { template?: PodTemplateSpec };
  const history = await readHistory(target, deployment);
  const current = history.find((entry) => sameTemplate(entry.template, spec.template));
  if (!current) return undefined;
  const selector = (current.replicaSet['spec'] as { selector?: LabelSelector } | undefined)?.selector;
  const [pods, events] = await Promise.all([
    target.client.listAll(resourceType('pods'), {
      namespace: target.namespace,
      labelSelector: selectorText(selector),
    }),
    target.client.listAll(resourceType('events'), { namespace: target.namespace }),
  ]);
  // Pods as listed are stored Pod objects; the failure check reads their status.
  const owned = (pods.items as unknown as Array<Pod & KubeObject>).filter((pod) =>
    pod.metadata.ownerReferences?.some(
      (ref) => ref.controller === true && ref.uid === current.replicaSet.metadata.uid,
    ),
  );
  return firstPodFailure({
    pods: owned,
    events: events.items,
    readinessFailures,
  });
}

function positive(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count <= 0) {
    throw new CliError(`"${value}" is not a whole number above 0`, 2);
  }
  return count;
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
