import type { Pod } from '@flotilla/api';
import { podIntent } from './pod-intent.util';

const base = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '10', labels: { app: 'web' } },
  spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'busybox' }] },
  status: { phase: 'Pending' },
} as unknown as Pod;

function changed(edit: (pod: Pod) => void): Pod {
  const pod = structuredClone(base);
  edit(pod);
  return pod;
}

describe('podIntent', () => {
  it.each<[string, Pod, boolean]>([
    ['a new status', changed((pod) => (pod.status = { phase: 'Running' })), true],
    ['a new resourceVersion', changed((pod) => (pod.metadata.resourceVersion = '11')), true],
    ['managed fields', changed((pod) => (pod.metadata.managedFields = [])), true],
    ['a new label', changed((pod) => (pod.metadata.labels = { app: 'web', tier: 'a' })), false],
    ['an annotation', changed((pod) => (pod.metadata.annotations = { note: 'x' })), false],
    ['a deletion', changed((pod) => (pod.metadata.deletionTimestamp = '2026-01-01T00:00:00Z')), false],
    ['a grace period', changed((pod) => (pod.metadata.deletionGracePeriodSeconds = 0)), false],
    [
      'a new image',
      changed((pod) => {
        const container = pod.spec.containers[0];
        if (container) container.image = 'busybox:2';
      }),
      false,
    ],
  ])('after %s, the intent is the same: %s', (_what, pod, same) => {
    expect(podIntent(pod) === podIntent(base)).toBe(same);
  });
});
