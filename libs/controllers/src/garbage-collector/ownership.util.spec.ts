import type { KubeObject, OwnerReference } from '@flotilla/api';
import { dependentAction, ownerAction } from './ownership.util';

const owner = (uid: string): OwnerReference => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  name: uid,
  uid,
});
const pod = (owners: OwnerReference[], deleting = false): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', ownerReferences: owners, ...(deleting ? { deletionTimestamp: 't' } : {}) },
});

describe('garbage collection decisions', () => {
  const alive = new Set(['r2']);
  const exists = (reference: OwnerReference): boolean => alive.has(reference.uid);

  it.each([
    ['no owners', pod([]), { kind: 'keep' }],
    ['a living owner', pod([owner('r2')]), { kind: 'keep' }],
    ['every owner gone', pod([owner('r1')]), { kind: 'delete' }],
    [
      'one of two owners gone',
      pod([owner('r1'), owner('r2')]),
      { kind: 'drop-owners', remaining: [owner('r2')] },
    ],
    ['already being deleted', pod([owner('r1')], true), { kind: 'keep' }],
  ])('%s', (_label, object, expected) => {
    expect(dependentAction(object, exists)).toEqual(expected);
  });

  it.each([
    [{}, 'none'],
    [{ deletionTimestamp: 't' }, 'none'],
    [{ deletionTimestamp: 't', finalizers: ['orphan'] }, 'orphan'],
    [{ deletionTimestamp: 't', finalizers: ['foregroundDeletion'] }, 'foreground'],
    [{ finalizers: ['orphan'] }, 'none'],
  ])('owner metadata %j → %s', (metadata, expected) => {
    expect(ownerAction({ apiVersion: 'v1', kind: 'ConfigMap', metadata }).kind).toBe(expected);
  });
});
