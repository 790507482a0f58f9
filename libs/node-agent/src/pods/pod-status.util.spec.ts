import type { Pod, PodCondition, PodPhase, RestartPolicy } from '@flotilla/api';
import {
  computePodStatus,
  terminationReason,
  type ContainerObservation,
  type ObservedState,
  type PodStatusInput,
  type TerminatedState,
} from './pod-status.util';

const NOW = '2026-11-23T10:00:00Z';
const EARLIER = '2026-11-23T09:00:00Z';

function pod(options: { restartPolicy?: RestartPolicy; containers?: string[]; init?: string[] } = {}): Pod {
  const container = (name: string): { name: string; image: string } => ({ name, image: 'busybox' });
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u' },
    spec: {
      restartPolicy: options.restartPolicy ?? 'Always',
      containers: (options.containers ?? ['web']).map(container),
      ...(options.init ? { initContainers: options.init.map(container) } : {}),
    },
  };
}

const running: ObservedState = { running: { startedAt: EARLIER } };
function terminated(exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error'): TerminatedState {
  return { exitCode, reason, startedAt: EARLIER, finishedAt: NOW, containerID: 'flotilla://c1' };
}

function observed(
  state: ObservedState | undefined,
  extra: Partial<ContainerObservation> = {},
): ContainerObservation {
  return {
    ...(state ? { state } : {}),
    restartCount: 0,
    image: 'docker.io/library/busybox:latest',
    imageID: 'docker.io/library/busybox@sha256:1',
    containerID: 'flotilla://c1',
    startupSucceeded: true,
    readinessSucceeded: true,
    ...extra,
  };
}

function input(
  spec: Pod,
  containers: Record<string, ContainerObservation>,
  init: Record<string, ContainerObservation> = {},
  terminal = false,
): PodStatusInput {
  return {
    pod: spec,
    containers: new Map(Object.entries(containers)),
    initContainers: new Map(Object.entries(init)),
    podIP: '10.88.0.7',
    hostIP: '192.168.0.2',
    startTime: EARLIER,
    terminal,
    now: NOW,
  };
}

type Expectation = [PodPhase, Record<string, [string, string?, string?]>];

function summary(
  conditions: readonly PodCondition[] | undefined,
): Record<string, [string, string?, string?]> {
  const result: Record<string, [string, string?, string?]> = {};
  for (const entry of conditions ?? []) {
    const value: [string, string?, string?] = [entry.status];
    if (entry.reason !== undefined) value.push(entry.reason);
    if (entry.message !== undefined) value.push(entry.message);
    result[entry.type] = value;
  }
  return result;
}

const crashLoop = observed(
  {
    waiting: {
      reason: 'CrashLoopBackOff',
      message: 'back-off 10s restarting failed container=log pod=p_default(u)',
    },
  },
  { lastTerminated: terminated(1), restartCount: 2 },
);

describe('computePodStatus: phase and conditions', () => {
  it.each<[string, PodStatusInput, Expectation]>([
    [
      'nothing created yet',
      input(pod(), {}),
      [
        'Pending',
        {
          Initialized: ['True'],
          Ready: ['False', 'ContainersNotReady', 'containers with unready status: [web]'],
          ContainersReady: ['False', 'ContainersNotReady', 'containers with unready status: [web]'],
          PodScheduled: ['True'],
        },
      ],
    ],
    [
      'init container running',
      input(pod({ init: ['setup'] }), {}, { setup: observed(running) }),
      [
        'Pending',
        {
          Initialized: ['False', 'ContainersNotInitialized', 'containers with incomplete status: [setup]'],
          Ready: ['False', 'ContainersNotReady', 'containers with unready status: [web]'],
          ContainersReady: ['False', 'ContainersNotReady', 'containers with unready status: [web]'],
          PodScheduled: ['True'],
        },
      ],
    ],
    [
      'the worked example: one ready, one in CrashLoopBackOff',
      input(pod({ containers: ['web', 'log'] }), { web: observed(running), log: crashLoop }),
      [
        'Running',
        {
          Initialized: ['True'],
          Ready: ['False', 'ContainersNotReady', 'containers with unready status: [log]'],
          ContainersReady: ['False', 'ContainersNotReady', 'containers with unready status: [log]'],
          PodScheduled: ['True'],
        },
      ],
    ],
    [
      'all ready',
      input(
        pod({ init: ['setup'] }),
        { web: observed(running) },
        { setup: observed({ terminated: terminated(0) }) },
      ),
      [
        'Running',
        { Initialized: ['True'], Ready: ['True'], ContainersReady: ['True'], PodScheduled: ['True'] },
      ],
    ],
    [
      'readiness not passed yet',
      input(pod(), { web: observed(running, { readinessSucceeded: false }) }),
      [
        'Running',
        {
          Initialized: ['True'],
          Ready: ['False', 'ContainersNotReady', 'containers with unready status: [web]'],
          ContainersReady: ['False', 'ContainersNotReady', 'containers with unready status: [web]'],
          PodScheduled: ['True'],
        },
      ],
    ],
    [
      'Never, failed',
      input(pod({ restartPolicy: 'Never' }), { web: observed({ terminated: terminated(1) }) }),
      [
        'Failed',
        {
          Initialized: ['True'],
          Ready: ['False', 'PodFailed'],
          ContainersReady: ['False', 'PodFailed'],
          PodScheduled: ['True'],
        },
      ],
    ],
    [
      'OnFailure, all succeeded',
      input(pod({ restartPolicy: 'OnFailure', containers: ['a', 'b'] }), {
        a: observed({ terminated: terminated(0) }),
        b: observed({ terminated: terminated(0) }),
      }),
      [
        'Succeeded',
        {
          Initialized: ['True', 'PodCompleted'],
          Ready: ['False', 'PodCompleted'],
          ContainersReady: ['False', 'PodCompleted'],
          PodScheduled: ['True'],
        },
      ],
    ],
    [
      'OnFailure, one failed and restarting',
      input(pod({ restartPolicy: 'OnFailure', containers: ['a', 'b'] }), {
        a: observed({ terminated: terminated(0) }),
        b: observed({ terminated: terminated(2) }),
      }),
      [
        'Running',
        {
          Initialized: ['True'],
          Ready: ['False', 'ContainersNotReady', 'containers with unready status: [a b]'],
          ContainersReady: ['False', 'ContainersNotReady', 'containers with unready status: [a b]'],
          PodScheduled: ['True'],
        },
      ],
    ],
    [
      'Always, everything exited (about to restart)',
      input(pod(), { web: observed({ terminated: terminated(0) }) }),
      [
        'Running',
        {
          Initialized: ['True'],
          Ready: ['False', 'ContainersNotReady', 'containers with unready status: [web]'],
          ContainersReady: ['False', 'ContainersNotReady', 'containers with unready status: [web]'],
          PodScheduled: ['True'],
        },
      ],
    ],
    [
      'init failed with Never',
      input(
        pod({ restartPolicy: 'Never', init: ['setup'] }),
        {},
        { setup: observed({ terminated: terminated(1) }) },
      ),
      [
        'Failed',
        {
          Initialized: ['False', 'ContainersNotInitialized', 'containers with incomplete status: [setup]'],
          Ready: ['False', 'PodFailed'],
          ContainersReady: ['False', 'PodFailed'],
          PodScheduled: ['True'],
        },
      ],
    ],
    [
      'deleted: stopped by SIGTERM is terminal and failed',
      input(pod(), { web: observed({ terminated: terminated(143) }) }, {}, true),
      [
        'Failed',
        {
          Initialized: ['True'],
          Ready: ['False', 'PodFailed'],
          ContainersReady: ['False', 'PodFailed'],
          PodScheduled: ['True'],
        },
      ],
    ],
    [
      'deleted: exited 0 is terminal and succeeded',
      input(pod(), { web: observed({ terminated: terminated(0) }) }, {}, true),
      [
        'Succeeded',
        {
          Initialized: ['True', 'PodCompleted'],
          Ready: ['False', 'PodCompleted'],
          ContainersReady: ['False', 'PodCompleted'],
          PodScheduled: ['True'],
        },
      ],
    ],
  ])('%s', (_label, given, [phase, conditions]) => {
    const status = computePodStatus(given);
    expect(status.phase).toBe(phase);
    expect(summary(status.conditions)).toEqual(conditions);
  });
});

describe('computePodStatus: container statuses', () => {
  it('reports the worked example as Kubernetes does', () => {
    const status = computePodStatus(
      input(pod({ containers: ['web', 'log'] }), { web: observed(running), log: crashLoop }),
    );
    expect(status.containerStatuses).toEqual([
      {
        name: 'web',
        state: { running: { startedAt: EARLIER } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: 'docker.io/library/busybox:latest',
        imageID: 'docker.io/library/busybox@sha256:1',
        containerID: 'flotilla://c1',
        started: true,
      },
      {
        name: 'log',
        state: crashLoop.state,
        lastState: { terminated: terminated(1) },
        ready: false,
        restartCount: 2,
        image: 'docker.io/library/busybox:latest',
        imageID: 'docker.io/library/busybox@sha256:1',
        containerID: 'flotilla://c1',
        started: false,
      },
    ]);
    expect(status).toMatchObject({
      podIP: '10.88.0.7',
      podIPs: [{ ip: '10.88.0.7' }],
      hostIP: '192.168.0.2',
      hostIPs: [{ ip: '192.168.0.2' }],
      startTime: EARLIER,
      qosClass: 'BestEffort',
    });
    expect(status.initContainerStatuses).toBeUndefined();
  });

  it.each<
    [
      string,
      ContainerObservation | undefined,
      boolean,
      { ready: boolean; started: boolean; state: ObservedState },
    ]
  >([
    [
      'not created, no init containers',
      undefined,
      false,
      { ready: false, started: false, state: { waiting: { reason: 'ContainerCreating' } } },
    ],
    [
      'not created, with init containers',
      undefined,
      true,
      { ready: false, started: false, state: { waiting: { reason: 'PodInitializing' } } },
    ],
    [
      'running, startup probe pending',
      observed(running, { startupSucceeded: false }),
      false,
      { ready: false, started: false, state: running },
    ],
    [
      'OOM killed',
      observed({ terminated: terminated(137, 'OOMKilled') }),
      false,
      { ready: false, started: false, state: { terminated: terminated(137, 'OOMKilled') } },
    ],
  ])('%s', (_label, observation, withInit, expected) => {
    const spec = pod(withInit ? { init: ['setup'] } : {});
    const status = computePodStatus(input(spec, observation ? { web: observation } : {}));
    expect(status.containerStatuses?.[0]).toMatchObject(expected);
    if (!observation) expect(status.containerStatuses?.[0]).toMatchObject({ image: 'busybox', imageID: '' });
  });

  it('marks a completed init container ready', () => {
    const status = computePodStatus(
      input(pod({ init: ['setup'] }), {}, { setup: observed({ terminated: terminated(0) }) }),
    );
    expect(status.initContainerStatuses?.[0]).toMatchObject({ name: 'setup', ready: true, started: false });
    expect(status.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
  });
});

describe('computePodStatus: transition times', () => {
  it('keeps lastTransitionTime while a condition holds and stamps changes', () => {
    const first = computePodStatus({
      ...input(pod(), { web: observed(running, { readinessSucceeded: false }) }),
      now: EARLIER,
    });
    const second = computePodStatus({ ...input(pod(), { web: observed(running) }), previous: first });
    const times = (
      conditions: readonly PodCondition[] | undefined,
    ): Record<string, string | null | undefined> =>
      Object.fromEntries((conditions ?? []).map((entry) => [entry.type, entry.lastTransitionTime]));
    expect(times(first.conditions)).toEqual({
      Initialized: EARLIER,
      Ready: EARLIER,
      ContainersReady: EARLIER,
      PodScheduled: EARLIER,
    });
    expect(times(second.conditions)).toEqual({
      Initialized: EARLIER,
      Ready: NOW,
      ContainersReady: NOW,
      PodScheduled: EARLIER,
    });
    expect(second.conditions?.every((entry) => entry.lastProbeTime === null)).toBe(true);
  });

  it('keeps the scheduler’s PodScheduled time', () => {
    const spec = pod();
    spec.status = {
      conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    };
    const status = computePodStatus(input(spec, {}));
    expect(status.conditions?.find((entry) => entry.type === 'PodScheduled')?.lastTransitionTime).toBe(
      '2026-01-01T00:00:00Z',
    );
  });
});

describe('terminationReason', () => {
  it.each([
    [{ exitCode: 0, oomKilled: false }, 'Completed'],
    [{ exitCode: 1, oomKilled: false }, 'Error'],
    [{ exitCode: 137, oomKilled: true }, 'OOMKilled'],
  ])('%j → %s', (exit, reason) => {
    expect(terminationReason(exit)).toBe(reason);
  });
});
