import type { KubeObject } from '@flotilla/api';
import { revisionHistory, sameTemplate, undoPatch, undoTarget } from './rollout-revisions.util';

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    uid: 'd1',
    annotations: { 'deployment.kubernetes.io/revision': '2', 'kubernetes.io/change-cause': 'v2', note: 'x' },
  },
};

function rs(name: string, revision: string | undefined, image: string, owner = 'd1'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: owner, controller: true },
      ],
      annotations: {
        ...(revision ? { 'deployment.kubernetes.io/revision': revision } : {}),
        'kubernetes.io/change-cause': `image ${image}`,
        'deployment.kubernetes.io/desired-replicas': '3',
      },
    },
    spec: {
      template: {
        metadata: { labels: { app: 'web', 'pod-template-hash': name } },
        spec: { containers: [{ name: 'web', image }] },
      },
    },
  };
}

const sets = [
  rs('b', '2', 'web:2'),
  rs('a', '1', 'web:1'),
  rs('other', '5', 'x', 'd2'),
  rs('none', undefined, 'y'),
];

describe('rollout revisions', () => {
  it('lists only controlled, numbered ReplicaSets, oldest revision first', () => {
    expect(revisionHistory(deployment, sets).map((entry) => [entry.revision, entry.changeCause])).toEqual([
      [1, 'image web:1'],
      [2, 'image web:2'],
    ]);
  });

  it.each([
    [0, 1],
    [2, 2],
  ])('undo to %p picks revision %p', (to, revision) => {
    expect(undoTarget(revisionHistory(deployment, sets), to, 'web').revision).toBe(revision);
  });

  it('says so when there is nothing to go back to', () => {
    expect(() => undoTarget(revisionHistory(deployment, [rs('a', '1', 'web:1')]), 0, 'web')).toThrow(
      'no rollout history found for deployment "web"',
    );
    expect(() => undoTarget(revisionHistory(deployment, sets), 7, 'web')).toThrow(
      'unable to find specified revision 7 in history',
    );
  });

  it('patches the template without its hash and the ReplicaSet’s annotations back, as kubectl does', () => {
    const [first] = revisionHistory(deployment, sets);
    if (!first) throw new Error('no revision 1');
    expect(undoPatch(deployment, first)).toEqual([
      {
        op: 'replace',
        path: '/spec/template',
        value: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'web:1' }] },
        },
      },
      {
        op: 'replace',
        path: '/metadata/annotations',
        value: { 'deployment.kubernetes.io/revision': '2', 'kubernetes.io/change-cause': 'image web:1' },
      },
    ]);
  });

  it('compares templates as Kubernetes does: no hash label, Go zero values equal to absence', () => {
    const a = {
      metadata: { labels: { app: 'web', 'pod-template-hash': 'h' } },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    };
    const b = {
      metadata: { labels: { app: 'web' }, creationTimestamp: null },
      spec: { containers: [{ image: 'i', name: 'c', resources: {} }] },
    } as unknown as typeof a;
    expect(sameTemplate(a, b)).toBe(true);
    expect(sameTemplate(a, { ...a, spec: { containers: [{ name: 'c', image: 'j' }] } })).toBe(false);
  });
});
