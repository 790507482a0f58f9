import type { KubeObject, Pod } from '@flotilla/api';
import { describeFailure, firstPodFailure } from './rollout-failure.util';

function pod(name: string, waiting?: { reason: string; message?: string }, ready = false): Pod {
  return {
    metadata: { name, uid: `${name}-uid` },
    spec: { containers: [{ name: 'web' }] },
    status: {
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: 'web',
          ready,
          restartCount: 0,
          image: 'web:2',
          imageID: '',
          state: waiting ? { waiting } : { running: {} },
        },
      ],
    },
  };
}

function unhealthy(podName: string, count: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${podName}.1` },
    involvedObject: { kind: 'Pod', name: podName, uid: `${podName}-uid` },
    reason: 'Unhealthy',
    message: 'Readiness probe failed: HTTP probe failed with statuscode: 500',
    count,
  };
}

describe('firstPodFailure', () => {
  it.each([
    ['CrashLoopBackOff', 'back-off 10s restarting failed container'],
    ['ErrImagePull', 'pull access denied'],
    ['ImagePullBackOff', 'Back-off pulling image "web:broken"'],
    ['CreateContainerConfigError', 'secret "db" not found'],
  ])('fails on a container waiting with %s', (reason, message) => {
    expect(firstPodFailure({ pods: [pod('ok'), pod('bad', { reason, message })], events: [] })).toEqual({
      pod: 'bad',
      container: 'web',
      reason,
      message,
    });
  });

  it.each(['ContainerCreating', 'PodInitializing'])('waits through %s', (reason) => {
    expect(firstPodFailure({ pods: [pod('slow', { reason })], events: [] })).toBeUndefined();
  });

  it.each([
    [2, undefined],
    [3, 'ReadinessProbeFailed'],
  ])('counts %p failed readiness probes → %p', (count, reason) => {
    expect(firstPodFailure({ pods: [pod('flaky')], events: [unhealthy('flaky', count)] })?.reason).toBe(
      reason,
    );
  });

  it('ignores readiness failures of a pod that has since become ready', () => {
    expect(
      firstPodFailure({ pods: [pod('fine', undefined, true)], events: [unhealthy('fine', 10)] }),
    ).toBeUndefined();
  });

  it('names the deployment, pod, container and reason', () => {
    expect(
      describeFailure('web', {
        pod: 'web-1',
        container: 'web',
        reason: 'ImagePullBackOff',
        message: 'no such image',
      }),
    ).toBe('deployment "web" rollout failed: pod web-1 container web is ImagePullBackOff: no such image');
  });
});
