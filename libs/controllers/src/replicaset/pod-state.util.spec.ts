import type { Pod } from '@flotilla/api';
import { availableAt, isPodActive, isPodAvailable, replicaCounts } from './pod-state.util';

const now = new Date('2026-11-23T10:00:20Z');

function pod(shape: {
  ready?: string;
  phase?: 'Running' | 'Failed' | 'Succeeded';
  deleting?: boolean;
  labels?: Record<string, string>;
}): Pod {
  return {
    metadata: {
      name: 'p',
      labels: shape.labels ?? { app: 'web' },
      ...(shape.deleting ? { deletionTimestamp: '2026-11-23T10:00:00Z' } : {}),
    },
    spec: { containers: [] },
    status: {
      phase: shape.phase ?? 'Running',
      conditions:
        shape.ready === undefined
          ? []
          : [{ type: 'Ready', status: 'True', lastTransitionTime: `2026-11-23T10:00:${shape.ready}Z` }],
    },
  };
}

describe('pod state', () => {
  it.each([
    [{}, true],
    [{ phase: 'Failed' as const }, false],
    [{ phase: 'Succeeded' as const }, false],
    [{ deleting: true }, false],
  ])('active %p → %p', (shape, active) => {
    expect(isPodActive(pod(shape))).toBe(active);
  });

  it.each([
    // ready since, minReadySeconds → available, available at
    [undefined, 0, false, undefined],
    ['19', 0, true, undefined],
    ['05', 10, true, undefined],
    ['10', 10, false, '2026-11-23T10:00:20.001Z'],
    ['15', 10, false, '2026-11-23T10:00:25.001Z'],
  ])('ready since %p with minReadySeconds %p → available %p', (ready, minReady, available, at) => {
    const subject = pod(ready === undefined ? {} : { ready });
    expect(isPodAvailable(subject, minReady, now)).toBe(available);
    expect(availableAt(subject, minReady, now)?.toISOString()).toBe(at);
  });

  it('counts replicas, fully labeled, ready and available pods', () => {
    expect(
      replicaCounts({
        pods: [
          pod({ ready: '00' }),
          pod({ ready: '15', labels: { app: 'web', tier: 'front' } }),
          pod({ labels: { app: 'web', tier: 'front' } }),
        ],
        templateLabels: { app: 'web', tier: 'front' },
        minReadySeconds: 10,
        now,
      }),
    ).toEqual({ replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1 });
  });
});
