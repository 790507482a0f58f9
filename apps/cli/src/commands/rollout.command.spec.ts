import type { KubeObject } from '@flotilla/api';
import { rolloutState } from './rollout.command';

function deployment(generation: number, replicas: number, status: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', generation },
    spec: { replicas },
    status,
  };
}

describe('rolloutState', () => {
  it('follows a rolling update through its stages to done', () => {
    expect(rolloutState(deployment(2, 3, { observedGeneration: 1 })).message).toBe(
      'Waiting for deployment spec update to be observed...',
    );
    expect(
      rolloutState(deployment(2, 3, { observedGeneration: 2, replicas: 4, updatedReplicas: 1 })).message,
    ).toBe('Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...');
    expect(
      rolloutState(deployment(2, 3, { observedGeneration: 2, replicas: 4, updatedReplicas: 3 })).message,
    ).toBe('Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...');
    expect(
      rolloutState(
        deployment(2, 3, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 }),
      ).message,
    ).toBe('Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...');
    expect(
      rolloutState(
        deployment(2, 3, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      ),
    ).toEqual({ done: true, message: 'deployment "web" successfully rolled out' });
  });

  it('fails once the progress deadline is exceeded', () => {
    const stuck = deployment(1, 2, {
      observedGeneration: 1,
      updatedReplicas: 1,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    });
    expect(rolloutState(stuck)).toEqual({
      done: false,
      failed: true,
      message: 'deployment "web" exceeded its progress deadline',
    });
  });
});
