import type { KubeObject } from '@flotilla/api';
import { claimAction, controllerReferenceTo, type ClaimAction } from './controller-ref.util';

function object(controller?: string, deleting = false): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'p',
      ...(controller
        ? {
            ownerReferences: [
              { apiVersion: 'v1', kind: 'ConfigMap', name: 'not-a-controller', uid: 'x' },
              { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: controller, controller: true },
            ],
          }
        : {}),
      ...(deleting ? { deletionTimestamp: '2026-11-23T10:00:00Z' } : {}),
    },
  };
}

describe('claimAction', () => {
  it.each<[string, KubeObject, boolean, boolean, ClaimAction]>([
    ['ours and matching', object('me'), true, false, 'keep'],
    ['ours, no longer matching', object('me'), false, false, 'release'],
    ['ours, no longer matching, owner being deleted', object('me'), false, true, 'keep'],
    ["another controller's", object('other'), true, false, 'ignore'],
    ['an orphan that matches', object(), true, false, 'adopt'],
    ['an orphan that does not match', object(), false, false, 'ignore'],
    ['an orphan, owner being deleted', object(), true, true, 'ignore'],
    ['an orphan being deleted', object(undefined, true), true, false, 'ignore'],
  ])('%s → %s', (_why, subject, matches, ownerDeleting, action) => {
    expect(claimAction({ object: subject, ownerUid: 'me', matches, ownerDeleting })).toBe(action);
  });

  it('makes controller references that block foreground deletion of the owner', () => {
    expect(
      controllerReferenceTo({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u' }),
    ).toEqual({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'rs',
      uid: 'u',
      controller: true,
      blockOwnerDeletion: true,
    });
  });
});
