export { PatchError } from './patch-error';
export { jsonEqual } from './json-value';
export type { JsonObject, JsonValue } from './json-value';
export { applyMergePatch } from './json-merge-patch';
export { applyJsonPatch } from './json-patch';
export type { JsonPatchOperation } from './json-patch';
export { applyStrategicMergePatch } from './strategic-merge-patch';
export type { StrategicMergeInput } from './strategic-merge-patch';
export { PATCH_STRATEGIES, fieldStrategy, hasPatchStrategies } from './patch-strategies';
export type { FieldStrategy } from './patch-strategies';
export { decodeFieldsV1, describePath, encodeFieldsV1 } from './managed-fields';
export {
  ApplyConflictError,
  apply,
  describeConflicts,
  describeManager,
  recordUpdate,
  serverSideApply,
} from './server-side-apply';
export type { ApplyConflict, ApplyInput, ApplyResult, RecordUpdateInput } from './server-side-apply';
