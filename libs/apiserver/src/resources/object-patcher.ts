// The seam between the write path and the patch formats: given the live object (or nothing) and a
// patch body, produce the desired object. The implementation lives in @flotilla/patch.
import type { KubeObject, ResourceType } from '@flotilla/api';
import type { PatchType } from '../http/request-body';

export interface PatchInput {
  type: ResourceType;
  patchType: PatchType;
  live: KubeObject | undefined;
  patch: unknown;
  manager: string;
  force: boolean;
  now: Date;
}

export interface Patcher {
  /** Returns the patched object; throws ApiError (400, 409 for apply conflicts, 422) when it cannot. */
  patch(input: PatchInput): KubeObject;
}
