import { RESOURCE_TYPES, type KubeObject, type ResourceType } from '@flotilla/api';
import {
  generateName,
  prepareForCreate,
  prepareForUpdate,
  prepareStatusUpdate,
  readyToRemove,
} from './object-lifecycle';

function type(kind: string): ResourceType {
  const found = RESOURCE_TYPES.find((candidate) => candidate.kind === kind);
  if (!found) throw new Error(kind);
  return found;
}

const deployment = (replicas: number, status: unknown = { replicas: 1 }): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'web',
      uid: 'u1',
      creationTimestamp: 't0',
      generation: 3,
      resourceVersion: '9',
    },
    spec: { replicas },
    status,
  }) as KubeObject;

describe('object lifecycle', () => {
  it('generates names from the prefix with a five-character suffix of safe letters', () => {
    const name = generateName('web-');
    expect(name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(generateName('x'.repeat(80))).toHaveLength(63);
  });

  it('creates with fresh uid, generation 1, the path namespace and a reset status', () => {
    const created = prepareForCreate(deployment(2, { replicas: 99 }), {
      type: type('Deployment'),
      namespace: 'web',
      now: new Date('2026-01-01T00:00:00Z'),
    }) as KubeObject & { status: unknown };
    expect(created.metadata?.uid).not.toBe('u1');
    expect(created.metadata?.generation).toBe(1);
    expect(created.metadata?.resourceVersion).toBeUndefined();
    expect(created.metadata?.creationTimestamp).toBe('2026-01-01T00:00:00Z');
    expect(created.status).toEqual({});
  });

  it('starts pods Pending and namespaces Active', () => {
    const pod = prepareForCreate(
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } },
      {
        type: type('Pod'),
        namespace: 'default',
      },
    ) as KubeObject & { status: unknown };
    expect(pod.status).toEqual({ phase: 'Pending' });
    expect(pod.metadata?.namespace).toBe('default');
  });

  it('bumps generation only when the spec changes and keeps status on a main-resource update', () => {
    const old = deployment(2);
    const same = prepareForUpdate(
      { ...deployment(2, { replicas: 7 }), metadata: { name: 'web' } },
      old,
      type('Deployment'),
    );
    expect(same.metadata?.generation).toBe(3);
    expect((same as { status?: unknown }).status).toEqual({ replicas: 1 });
    expect(same.metadata?.uid).toBe('u1');
    const scaled = prepareForUpdate(deployment(5), old, type('Deployment'));
    expect(scaled.metadata?.generation).toBe(4);
  });

  it('takes only status from a status update', () => {
    const updated = prepareStatusUpdate(deployment(9, { replicas: 2 }), deployment(2));
    expect((updated as { spec?: unknown }).spec).toEqual({ replicas: 2 });
    expect((updated as { status?: unknown }).status).toEqual({ replicas: 2 });
  });

  it('removes an object once it is being deleted and has no finalizers', () => {
    expect(readyToRemove({ apiVersion: 'v1', kind: 'Pod', metadata: { deletionTimestamp: 't' } })).toBe(true);
    expect(
      readyToRemove({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { deletionTimestamp: 't', finalizers: ['x'] },
      }),
    ).toBe(false);
    expect(readyToRemove({ apiVersion: 'v1', kind: 'Pod', metadata: {} })).toBe(false);
  });
});
