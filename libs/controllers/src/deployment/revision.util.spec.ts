import type { PodTemplateSpec, ReplicaSet } from '@flotilla/api';
import {
  CHANGE_CAUSE_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  canonicalJson,
  equalIgnoringHash,
  maxRevision,
  newReplicaSetAnnotations,
  replicaSetsPastHistoryLimit,
  revisionOf,
  rolledBackAnnotations,
  selectorWithHash,
  templateHash,
  type NewReplicaSetAnnotationsInput,
} from './revision.util';

const template = (image: string, labels: Record<string, string> = { app: 'web' }): PodTemplateSpec => ({
  metadata: { labels },
  spec: { containers: [{ name: 'c', image }] },
});

function rs(
  name: string,
  shape: { revision?: string; replicas?: number; status?: number; seen?: boolean },
): ReplicaSet {
  return {
    metadata: {
      name,
      generation: 2,
      creationTimestamp: '2026-11-23T10:00:00Z',
      ...(shape.revision ? { annotations: { [REVISION_ANNOTATION]: shape.revision } } : {}),
    },
    spec: { replicas: shape.replicas ?? 0, selector: {} },
    status: { replicas: shape.status ?? 0, observedGeneration: shape.seen === false ? 1 : 2 },
  };
}

describe('template hash', () => {
  it('is stable across key order, ignores its own label, and changes with the template or collisions', () => {
    const a = templateHash(template('web:1'));
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(
      templateHash({
        spec: { containers: [{ image: 'web:1', name: 'c' }] },
        metadata: { labels: { app: 'web' } },
      }),
    ).toBe(a);
    expect(templateHash(template('web:1', { app: 'web', [POD_TEMPLATE_HASH_LABEL]: a }))).toBe(a);
    expect(templateHash(template('web:2'))).not.toBe(a);
    expect(templateHash(template('web:1'), 1)).not.toBe(a);
  });

  it('compares templates without the hash label', () => {
    expect(
      equalIgnoringHash(template('web:1', { app: 'web', [POD_TEMPLATE_HASH_LABEL]: 'x' }), template('web:1')),
    ).toBe(true);
    expect(equalIgnoringHash(template('web:1'), template('web:2'))).toBe(false);
    // What kubectl rollout undo sends back: Go's empty values for fields the template never had.
    const viaGo = {
      metadata: { labels: { app: 'web' }, creationTimestamp: null },
      spec: { containers: [{ name: 'c', image: 'web:1', resources: {} }] },
    } as unknown as PodTemplateSpec;
    expect(equalIgnoringHash(viaGo, template('web:1'))).toBe(true);
    expect(templateHash(viaGo)).toBe(templateHash(template('web:1')));
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: 2 }] })).toBe('{"a":[{"c":2}],"b":1}');
  });

  it('narrows the selector to one ReplicaSet', () => {
    expect(selectorWithHash({ matchLabels: { app: 'web' } }, 'abc')).toEqual({
      matchLabels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: 'abc' },
    });
  });
});

describe('revisions', () => {
  it.each([
    [undefined, 0],
    ['3', 3],
    ['x', 0],
    ['-1', 0],
  ])('revision annotation %p → %p', (revision, expected) => {
    expect(revisionOf(rs('a', revision ? { revision } : {}))).toBe(expected);
  });

  it('finds the highest revision', () => {
    expect(maxRevision([rs('a', { revision: '2' }), rs('b', { revision: '7' }), rs('c', {})])).toBe(7);
  });

  it.each<{ why: string; input: NewReplicaSetAnnotationsInput; expected: Record<string, string> }>([
    {
      why: 'a new ReplicaSet gets the revision, replica annotations and the change cause',
      input: {
        deploymentAnnotations: { [CHANGE_CAUSE_ANNOTATION]: 'image web:2', [REVISION_ANNOTATION]: '1' },
        current: undefined,
        newRevision: 2,
        replicas: { desired: 3, max: 4 },
      },
      expected: {
        [CHANGE_CAUSE_ANNOTATION]: 'image web:2',
        [REVISION_ANNOTATION]: '2',
        [DESIRED_REPLICAS_ANNOTATION]: '3',
        [MAX_REPLICAS_ANNOTATION]: '4',
      },
    },
    {
      why: 'the example in the header: a rollback to revision 1 makes it 3 and remembers 1',
      input: { deploymentAnnotations: {}, current: { [REVISION_ANNOTATION]: '1' }, newRevision: 3 },
      expected: { [REVISION_ANNOTATION]: '3', [REVISION_HISTORY_ANNOTATION]: '1' },
    },
    {
      why: 'a second rollback appends to the history',
      input: {
        deploymentAnnotations: {},
        current: { [REVISION_ANNOTATION]: '3', [REVISION_HISTORY_ANNOTATION]: '1' },
        newRevision: 5,
      },
      expected: { [REVISION_ANNOTATION]: '5', [REVISION_HISTORY_ANNOTATION]: '1,3' },
    },
    {
      why: 'the current revision is never lowered',
      input: { deploymentAnnotations: {}, current: { [REVISION_ANNOTATION]: '4' }, newRevision: 4 },
      expected: { [REVISION_ANNOTATION]: '4' },
    },
  ])('$why', ({ input, expected }) => {
    expect(newReplicaSetAnnotations(input)).toEqual(expected);
  });

  it('rolls a Deployment back to a ReplicaSet’s annotations, keeping its own bookkeeping', () => {
    expect(
      rolledBackAnnotations(
        { [REVISION_ANNOTATION]: '4', [CHANGE_CAUSE_ANNOTATION]: 'new', other: 'gone' },
        { [REVISION_ANNOTATION]: '1', [CHANGE_CAUSE_ANNOTATION]: 'old', [DESIRED_REPLICAS_ANNOTATION]: '3' },
      ),
    ).toEqual({ [REVISION_ANNOTATION]: '4', [CHANGE_CAUSE_ANNOTATION]: 'old' });
  });
});

describe('replicaSetsPastHistoryLimit', () => {
  it.each([
    {
      why: 'keeps the newest limit revisions',
      sets: [rs('r3', { revision: '3' }), rs('r1', { revision: '1' }), rs('r2', { revision: '2' })],
      limit: 1,
      expected: ['r1', 'r2'],
    },
    {
      why: 'never deletes a ReplicaSet that still has pods or an unobserved spec',
      sets: [
        rs('r1', { revision: '1', status: 1 }),
        rs('r2', { revision: '2', replicas: 1 }),
        rs('r3', { revision: '3', seen: false }),
        rs('r4', { revision: '4' }),
      ],
      limit: 0,
      expected: ['r4'],
    },
    { why: 'nothing under the limit', sets: [rs('r1', { revision: '1' })], limit: 10, expected: [] },
  ])('$why', ({ sets, limit, expected }) => {
    expect(replicaSetsPastHistoryLimit(sets, limit).map((set) => set.metadata.name)).toEqual(expected);
  });
});
