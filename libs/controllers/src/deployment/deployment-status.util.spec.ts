import type { DeploymentStatus, ReplicaSet, WorkloadCondition } from '@flotilla/api';
import {
  REASONS,
  calculateStatus,
  condition,
  pausedCondition,
  progressCheckDelayMs,
  setCondition,
  withProgress,
  type DeploymentShape,
} from './deployment-status.util';

const now = new Date('2026-11-23T10:01:01Z');

function shape(status: DeploymentStatus, extra: Partial<DeploymentShape> = {}): DeploymentShape {
  return {
    name: 'web',
    generation: 2,
    strategy: { replicas: 3, rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
    progressDeadlineSeconds: 60,
    status,
    ...extra,
  };
}

function progressing(
  reason: string,
  status: WorkloadCondition['status'] = 'True',
  updated = '10:00:00',
): WorkloadCondition {
  return {
    type: 'Progressing',
    status,
    reason,
    lastUpdateTime: `2026-11-23T${updated}Z`,
    lastTransitionTime: '2026-11-23T09:00:00Z',
  };
}

function rs(spec: number, replicas: number, ready: number, available: number): ReplicaSet {
  return {
    metadata: { name: 'rs' },
    spec: { replicas: spec, selector: {} },
    status: { replicas, readyReplicas: ready, availableReplicas: available },
  };
}

describe('calculateStatus', () => {
  it('sums the ReplicaSets and judges availability against maxUnavailable', () => {
    const fresh = rs(2, 2, 1, 1);
    const status = calculateStatus({
      deployment: shape({ collisionCount: 1 }),
      replicaSets: [rs(2, 2, 2, 2), fresh],
      newReplicaSet: fresh,
      now,
    });
    expect(status).toMatchObject({
      observedGeneration: 2,
      replicas: 4,
      updatedReplicas: 2,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 1,
      collisionCount: 1,
    });
    expect(condition(status.conditions, 'Available')).toMatchObject({
      status: 'True',
      reason: REASONS.minimumAvailable,
    });
  });

  it.each([
    [1, 'False', REASONS.minimumUnavailable],
    [2, 'True', REASONS.minimumAvailable],
  ])('%p of 3 available with maxUnavailable 1 → Available %s', (available, status, reason) => {
    const result = calculateStatus({
      deployment: shape({}),
      replicaSets: [rs(3, 3, available, available)],
      newReplicaSet: undefined,
      now,
    });
    expect(condition(result.conditions, 'Available')).toMatchObject({ status, reason });
  });
});

describe('setCondition', () => {
  it('keeps a condition with the same status and reason, and its transition time when only the reason moves', () => {
    const current = [progressing(REASONS.foundNewReplicaSet)];
    expect(setCondition(current, progressing(REASONS.foundNewReplicaSet, 'True', '10:00:30'))).toEqual(
      current,
    );
    const moved = setCondition(current, {
      ...progressing(REASONS.replicaSetUpdated),
      lastTransitionTime: 'later',
    });
    expect(moved).toEqual([
      { ...progressing(REASONS.replicaSetUpdated), lastTransitionTime: '2026-11-23T09:00:00Z' },
    ]);
  });
});

describe('withProgress', () => {
  const before: DeploymentStatus = {
    replicas: 4,
    updatedReplicas: 1,
    readyReplicas: 3,
    availableReplicas: 3,
  };

  it.each([
    {
      why: 'more updated replicas is progress: lastUpdateTime moves, the transition stays',
      previous: before,
      next: { ...before, updatedReplicas: 2 },
      cond: progressing(REASONS.replicaSetUpdated),
      reason: REASONS.replicaSetUpdated,
      status: 'True',
      updated: '2026-11-23T10:01:01Z',
    },
    {
      why: 'the example in the header: nothing moved for longer than the deadline',
      previous: before,
      next: before,
      cond: progressing(REASONS.replicaSetUpdated),
      reason: REASONS.timedOut,
      status: 'False',
      updated: '2026-11-23T10:01:01Z',
    },
    {
      why: 'nothing moved, deadline not yet passed',
      previous: before,
      next: before,
      cond: progressing(REASONS.replicaSetUpdated, 'True', '10:00:30'),
      reason: REASONS.replicaSetUpdated,
      status: 'True',
      updated: '2026-11-23T10:00:30Z',
    },
    {
      why: 'every replica updated and available completes the rollout',
      previous: before,
      next: {
        observedGeneration: 2,
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
      },
      cond: progressing(REASONS.replicaSetUpdated),
      reason: REASONS.newReplicaSetAvailable,
      status: 'True',
      updated: '2026-11-23T10:01:01Z',
    },
  ])('$why', ({ previous, next, cond, reason, status, updated }) => {
    const result = withProgress({
      deployment: shape({ ...previous, conditions: [cond] }),
      next: { ...next, conditions: [cond] },
      newReplicaSetName: 'web-abc',
      now,
    });
    expect(condition(result.conditions, 'Progressing')).toMatchObject({
      reason,
      status,
      lastUpdateTime: updated,
    });
  });

  it('names the ReplicaSet in its messages, and drops the condition without a deadline', () => {
    const result = withProgress({
      deployment: shape(before),
      next: { ...before, updatedReplicas: 2, conditions: [progressing(REASONS.replicaSetUpdated)] },
      newReplicaSetName: 'web-abc',
      now,
    });
    expect(condition(result.conditions, 'Progressing')?.message).toBe('ReplicaSet "web-abc" is progressing.');
    const none = withProgress({
      deployment: shape(before, { progressDeadlineSeconds: undefined }),
      next: { ...before, conditions: [progressing(REASONS.replicaSetUpdated)] },
      newReplicaSetName: undefined,
      now,
    });
    expect(none.conditions).toEqual([]);
  });
});

describe('progressCheckDelayMs', () => {
  it.each([
    [progressing(REASONS.replicaSetUpdated, 'True', '10:00:30'), 30_000],
    [progressing(REASONS.replicaSetUpdated, 'True', '09:00:00'), 1000],
    [progressing(REASONS.timedOut, 'False'), undefined],
    [progressing(REASONS.newReplicaSetAvailable), undefined],
  ])('%p → %p ms', (cond, delay) => {
    const status = { replicas: 3, updatedReplicas: 1, conditions: [cond] };
    expect(progressCheckDelayMs(shape(status), status, now)).toBe(delay);
  });
});

describe('pausedCondition', () => {
  it.each([
    [true, progressing(REASONS.replicaSetUpdated), REASONS.paused],
    [true, progressing(REASONS.paused, 'Unknown'), undefined],
    [false, progressing(REASONS.paused, 'Unknown'), REASONS.resumed],
    [false, progressing(REASONS.replicaSetUpdated), undefined],
    [true, progressing(REASONS.timedOut, 'False'), undefined],
  ])('paused %p with %p → %p', (paused, cond, reason) => {
    expect(pausedCondition(shape({ conditions: [cond] }), paused, now)?.reason).toBe(reason);
  });
});
