// A pod's status computed from what the engine observed, with kubelet's rules: the phase
// (getPhase), the Initialized / Ready / ContainersReady / PodScheduled conditions (their reasons and
// "containers with unready status: [a b]" messages), and per container its state, lastState, ready,
// started, restartCount. Conditions keep their lastTransitionTime until their status changes.
//
// Worked example: restartPolicy Always, containers web (running, readiness passed) and log
// (crashed twice, waiting in back-off):
//   web → {state: running, ready: true, started: true}
//   log → {state: waiting CrashLoopBackOff, lastState: terminated Error, ready: false, restartCount: 2}
//   phase Running (log has a last termination, so it counts as stopped, not waiting);
//   Ready and ContainersReady False "containers with unready status: [log]", Initialized True.
import type { ContainerStatus, Pod, PodCondition, PodPhase, PodStatus } from '@flotilla/api';
import { podQosClass } from './pod-resources.util';

export interface TerminatedState {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}

export type ObservedState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: TerminatedState };

export interface ContainerObservation {
  /** Absent: no instance has been asked for yet (the default waiting reason applies). */
  state?: ObservedState;
  lastTerminated?: TerminatedState;
  restartCount: number;
  /** The image as the pod names it, fully qualified. */
  image: string;
  imageID: string;
  /** flotilla://<id> of the current (or last) instance. */
  containerID?: string;
  /** True when there is no startup probe, else whether it has succeeded for this instance. */
  startupSucceeded: boolean;
  /** True when there is no readiness probe, else its current result. */
  readinessSucceeded: boolean;
}

export interface PodStatusInput {
  pod: Pod;
  /** Observations by container name; a container missing here has not been created yet. */
  containers: ReadonlyMap<string, ContainerObservation>;
  initContainers: ReadonlyMap<string, ContainerObservation>;
  podIP?: string;
  hostIP?: string;
  startTime?: string;
  /** The pod is being torn down or deleted: its containers will not be restarted again. */
  terminal: boolean;
  /** The status last reported, for the conditions' lastTransitionTime. */
  previous?: PodStatus;
  /** Now, as Kubernetes writes timestamps (second precision). */
  now: string;
}

const CONTAINER_CREATING = 'ContainerCreating';
const POD_INITIALIZING = 'PodInitializing';

export function isTerminated(state: ObservedState | undefined): state is { terminated: TerminatedState } {
  return state !== undefined && 'terminated' in state;
}

export function isRunning(state: ObservedState | undefined): state is { running: { startedAt: string } } {
  return state !== undefined && 'running' in state;
}

function isWaiting(state: ObservedState | undefined): state is { waiting: { reason: string } } {
  return state !== undefined && 'waiting' in state;
}

/** kubelet's getPhase. */
export function podPhase(
  input: Pick<PodStatusInput, 'pod' | 'containers' | 'initContainers' | 'terminal'>,
): PodPhase {
  const spec = input.pod.spec;
  const restartPolicy = spec.restartPolicy ?? 'Always';
  let pendingInitialization = 0;
  let failedInitialization = 0;
  for (const container of spec.initContainers ?? []) {
    const observed = input.initContainers.get(container.name);
    const state = observed?.state;
    if (isRunning(state) || state === undefined) pendingInitialization++;
    else if (isTerminated(state)) {
      if (state.terminated.exitCode !== 0) failedInitialization++;
    } else if (observed?.lastTerminated !== undefined) {
      if (observed.lastTerminated.exitCode !== 0) failedInitialization++;
    } else pendingInitialization++;
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  let anyStarted = false;
  for (const container of spec.containers) {
    const observed = input.containers.get(container.name);
    const state = observed?.state;
    // kubelet reports a container it has not created yet as waiting, never as unknown.
    if (isRunning(state)) {
      running++;
      anyStarted = true;
    } else if (isTerminated(state)) {
      stopped++;
      anyStarted = true;
      if (state.terminated.exitCode === 0) succeeded++;
    } else if (observed?.lastTerminated !== undefined) {
      stopped++;
      anyStarted = true;
    } else {
      waiting++;
    }
  }
  if (failedInitialization > 0 && restartPolicy === 'Never') return 'Failed';
  if ((pendingInitialization > 0 && !anyStarted) || waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (running === 0 && stopped > 0) {
    if (input.terminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function goList(names: readonly string[]): string {
  return `[${names.join(' ')}]`;
}

function condition(type: string, status: boolean, reason?: string, message?: string): PodCondition {
  return {
    type,
    status: status ? 'True' : 'False',
    ...(reason !== undefined ? { reason } : {}),
    ...(message !== undefined ? { message } : {}),
  };
}

function initializedCondition(input: PodStatusInput, phase: PodPhase): PodCondition {
  const incomplete: string[] = [];
  for (const container of input.pod.spec.initContainers ?? []) {
    const state = input.initContainers.get(container.name)?.state;
    if (!isTerminated(state) || state.terminated.exitCode !== 0) incomplete.push(container.name);
  }
  if (phase === 'Succeeded') return condition('Initialized', true, 'PodCompleted');
  const anyRegularStarted = input.pod.spec.containers.some((container) => {
    const observed = input.containers.get(container.name);
    return (
      isRunning(observed?.state) || isTerminated(observed?.state) || observed?.lastTerminated !== undefined
    );
  });
  if (anyRegularStarted) return condition('Initialized', true);
  if (incomplete.length > 0) {
    return condition(
      'Initialized',
      false,
      'ContainersNotInitialized',
      `containers with incomplete status: ${goList(incomplete)}`,
    );
  }
  return condition('Initialized', true);
}

function readinessCondition(
  type: 'Ready' | 'ContainersReady',
  input: PodStatusInput,
  statuses: readonly ContainerStatus[],
  phase: PodPhase,
): PodCondition {
  const unready = input.pod.spec.containers
    .filter((container) => !statuses.find((candidate) => candidate.name === container.name)?.ready)
    .map((container) => container.name);
  if (phase === 'Succeeded') return condition(type, false, 'PodCompleted');
  if (phase === 'Failed') return condition(type, false, 'PodFailed');
  if (unready.length > 0) {
    return condition(type, false, 'ContainersNotReady', `containers with unready status: ${goList(unready)}`);
  }
  return condition(type, true);
}

function containerStatus(
  name: string,
  observed: ContainerObservation | undefined,
  init: boolean,
  defaultReason: string,
  fallbackImage: string,
): ContainerStatus {
  const state = observed?.state ?? { waiting: { reason: defaultReason } };
  const running = isRunning(state);
  const started = running && (observed?.startupSucceeded ?? false);
  const ready = init
    ? isTerminated(state) && state.terminated.exitCode === 0
    : started && (observed?.readinessSucceeded ?? false);
  return {
    name,
    state,
    lastState: observed?.lastTerminated ? { terminated: observed.lastTerminated } : {},
    ready,
    restartCount: observed?.restartCount ?? 0,
    image: observed?.image ?? fallbackImage,
    imageID: observed?.imageID ?? '',
    ...(observed?.containerID !== undefined ? { containerID: observed.containerID } : {}),
    started,
  };
}

/** Keeps lastTransitionTime while the status stays; stamps now when it changes. */
function withTransitionTimes(
  conditions: readonly PodCondition[],
  previous: readonly PodCondition[],
  now: string,
): PodCondition[] {
  return conditions.map((next) => {
    const before = previous.find((candidate) => candidate.type === next.type);
    const lastTransitionTime =
      before !== undefined && before.status === next.status && before.lastTransitionTime
        ? before.lastTransitionTime
        : now;
    return { ...next, lastProbeTime: null, lastTransitionTime };
  });
}

export function computePodStatus(input: PodStatusInput): PodStatus {
  const { pod } = input;
  const hasInit = (pod.spec.initContainers?.length ?? 0) > 0;
  const defaultReason = hasInit ? POD_INITIALIZING : CONTAINER_CREATING;
  const imageOf = (name: string, list: readonly { name: string; image?: string }[]): string =>
    list.find((container) => container.name === name)?.image ?? '';
  const initStatuses = (pod.spec.initContainers ?? []).map((container) =>
    containerStatus(
      container.name,
      input.initContainers.get(container.name),
      true,
      defaultReason,
      imageOf(container.name, pod.spec.initContainers ?? []),
    ),
  );
  const statuses = pod.spec.containers.map((container) =>
    containerStatus(
      container.name,
      input.containers.get(container.name),
      false,
      defaultReason,
      imageOf(container.name, pod.spec.containers),
    ),
  );
  const phase = podPhase(input);
  const scheduled =
    pod.status?.conditions?.find((entry) => entry.type === 'PodScheduled' && entry.status === 'True') ??
    input.previous?.conditions?.find((entry) => entry.type === 'PodScheduled');
  const conditions = withTransitionTimes(
    [
      initializedCondition(input, phase),
      readinessCondition('Ready', input, statuses, phase),
      readinessCondition('ContainersReady', input, statuses, phase),
    ],
    input.previous?.conditions ?? [],
    input.now,
  );
  conditions.push({
    type: 'PodScheduled',
    status: 'True',
    lastProbeTime: null,
    lastTransitionTime: scheduled?.lastTransitionTime ?? input.startTime ?? input.now,
  });
  return {
    phase,
    conditions,
    ...(input.hostIP !== undefined ? { hostIP: input.hostIP, hostIPs: [{ ip: input.hostIP }] } : {}),
    ...(input.podIP !== undefined ? { podIP: input.podIP, podIPs: [{ ip: input.podIP }] } : {}),
    ...(input.startTime !== undefined ? { startTime: input.startTime } : {}),
    ...(hasInit ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    qosClass: podQosClass(pod.spec),
  };
}

/** The terminated reason runtimes give: OOMKilled, else Completed for 0 and Error otherwise. */
export function terminationReason(exit: { exitCode: number; oomKilled: boolean }): string {
  if (exit.oomKilled) return 'OOMKilled';
  return exit.exitCode === 0 ? 'Completed' : 'Error';
}

/** Whether this waiting reason is the default one (nothing has happened to the container yet). */
export function isDefaultWaiting(state: ObservedState | undefined): boolean {
  return (
    state === undefined ||
    (isWaiting(state) &&
      (state.waiting.reason === CONTAINER_CREATING || state.waiting.reason === POD_INITIALIZING))
  );
}
