// Validation and defaulting of incoming objects. Metadata rules (names, labels, annotations) are
// checked here for every kind; kind-specific rules come from @flotilla/api's model.
import {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  type KubeObject,
  type ResourceType,
  type StatusCause,
} from '@flotilla/api';

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** Which name rule each kind follows, as in Kubernetes' ValidateObjectMeta callers. */
function nameRule(type: ResourceType): (name: string) => string[] {
  switch (type.kind) {
    case 'Namespace':
      return isDns1123Label;
    case 'Service':
      return isDns1035Label;
    default:
      return isDns1123Subdomain;
  }
}

export function validateMetadata(type: ResourceType, object: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const metadata = object.metadata ?? {};
  const name = metadata.name;
  if (name === undefined || name === '') {
    causes.push({
      reason: 'FieldValueRequired',
      message: 'Required value: name or generateName is required',
      field: 'metadata.name',
    });
  } else {
    for (const problem of nameRule(type)(name)) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${name}": ${problem}`,
        field: 'metadata.name',
      });
    }
  }
  for (const [key, value] of Object.entries(metadata.labels ?? {})) {
    for (const problem of isQualifiedName(key)) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${key}": ${problem}`,
        field: 'metadata.labels',
      });
    }
    if (typeof value !== 'string') {
      causes.push({
        reason: 'FieldValueTypeInvalid',
        message: 'label values must be strings',
        field: `metadata.labels.${key}`,
      });
      continue;
    }
    for (const problem of isValidLabelValue(value)) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${value}": ${problem}`,
        field: 'metadata.labels',
      });
    }
  }
  let annotationBytes = 0;
  for (const [key, value] of Object.entries(metadata.annotations ?? {})) {
    for (const problem of isQualifiedName(key.toLowerCase())) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${key}": ${problem}`,
        field: 'metadata.annotations',
      });
    }
    annotationBytes += key.length + (typeof value === 'string' ? value.length : 0);
  }
  if (annotationBytes > TOTAL_ANNOTATION_SIZE_LIMIT) {
    causes.push({
      reason: 'FieldValueTooLong',
      message: `Too long: must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes`,
      field: 'metadata.annotations',
    });
  }
  return causes;
}
