// The Patcher on @flotilla/patch: the four patch types Kubernetes accepts, with its error codes
// (400 for a malformed patch, 409 naming the other managers for apply conflicts).
import { apiVersionOf, type KubeObject } from '@flotilla/api';
import {
  PatchError,
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  ApplyConflictError,
  serverSideApply,
} from '@flotilla/patch';
import { ApiError, apiErrors } from '../http/api-error';
import type { PatchInput, Patcher } from './object-patcher';

function asKubeObject(value: unknown): KubeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw apiErrors.badRequest('the patched result is not an object');
  }
  return value as KubeObject;
}

export class KubePatcher implements Patcher {
  patch(input: PatchInput): KubeObject {
    const { type, patchType, live, patch } = input;
    try {
      switch (patchType) {
        case 'merge':
          return asKubeObject(applyMergePatch(live, patch));
        case 'json':
          return asKubeObject(applyJsonPatch(live, patch));
        case 'strategic':
          return asKubeObject(applyStrategicMergePatch({ kind: type.kind, target: live, patch }));
        case 'apply':
          return this.apply(input);
      }
    } catch (error) {
      if (error instanceof PatchError)
        throw apiErrors.badRequest(`the patch could not be applied: ${error.message}`);
      throw error;
    }
  }

  private apply(input: PatchInput): KubeObject {
    const applied = asKubeObject(input.patch);
    const apiVersion = apiVersionOf(input.type);
    const { object, conflicts } = serverSideApply({
      kind: input.type.kind,
      apiVersion,
      live: input.live,
      applied,
      manager: input.manager,
      force: input.force,
      now: input.now,
    });
    if (conflicts.length > 0 && !input.force) {
      const conflict = new ApplyConflictError(conflicts);
      throw new ApiError({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: conflict.message,
        reason: 'Conflict',
        details: { causes: conflict.causes() },
        code: 409,
      });
    }
    return object;
  }
}
