export { Quantity, QuantityError, tryParseQuantity } from './quantity';
export type { QuantityFormat } from './quantity';
export {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  DNS1123_LABEL_MAX_LENGTH,
  DNS1123_SUBDOMAIN_MAX_LENGTH,
} from './names';
export type {
  KubeList,
  KubeObject,
  ListMeta,
  ManagedFieldsEntry,
  ObjectMeta,
  OwnerReference,
  Status,
  StatusCause,
  StatusDetails,
  StatusReason,
  TypeMeta,
  WatchEvent,
  WatchEventType,
} from './meta/object.types';
export {
  RESOURCE_TYPES,
  apiVersionOf,
  resolveResourceName,
  resourceTypeForKind,
  resourceTypeForPath,
  storageKey,
  storagePrefix,
} from './registry/resource-types';
export type { ResourceType, Subresource } from './registry/resource-types';
export {
  LabelMatcher,
  SelectorError,
  labelSelectorMatcher,
  parseLabelSelector,
} from './selectors/label-selector';
export type {
  LabelRequirement,
  LabelSelector,
  LabelSelectorRequirement,
  SelectorOperator,
} from './selectors/label-selector';
export { FieldMatcher, fieldValue, parseFieldSelector } from './selectors/field-selector';
export type { FieldRequirement } from './selectors/field-selector';
export { pruneUnknownFields, validateObject, validateUpdate } from './validation/validate-object';
export type { FieldValidation, ObjectValidation, ValidateObjectOptions } from './validation/validate-object';
export { applyDefaults, defaultPullPolicy } from './validation/apply-defaults';
