// Everything kind-specific the write path needs, behind one seam: validation, defaults, managed
// fields, and Kubernetes' per-kind quirks. The rules themselves live in @flotilla/api.
import {
  RESOURCE_TYPES,
  apiVersionOf,
  applyDefaults,
  pruneUnknownFields,
  validateObject,
  validateStatusUpdate,
  validateUpdate,
  type KubeObject,
  type ResourceType,
  type StatusCause,
} from '@flotilla/api';
import { recordUpdate } from '@flotilla/patch';
import type { FieldValidation } from './request-options';

export interface ValidationResult {
  causes: StatusCause[];
  /** Every field the kind does not have (full paths); the caller decides per fieldValidation. */
  unknownFields: string[];
  warnings: string[];
}

export interface ManagedFieldsInput {
  type: ResourceType;
  old: KubeObject | undefined;
  updated: KubeObject;
  manager: string;
  operation: 'Update' | 'Apply';
  /** Set when the write came through the status or scale subresource. */
  subresource?: string;
}

export interface ObjectModel {
  readonly namespaceType: ResourceType;
  validate(input: {
    type: ResourceType;
    object: KubeObject;
    old?: KubeObject;
    fieldValidation: FieldValidation;
  }): ValidationResult;
  /** A status subresource write (`object` is the stored one with the new status) over `old`. */
  validateStatus(input: { type: ResourceType; object: KubeObject; old: KubeObject }): ValidationResult;
  pruneUnknown(object: KubeObject, unknownFields: string[]): KubeObject;
  defaults(type: ResourceType, object: KubeObject): KubeObject;
  recordManagedFields(input: ManagedFieldsInput): KubeObject;
  allowsCreateOnUpdate(type: ResourceType): boolean;
}

/** Kinds Kubernetes lets a PUT create (their writers do not know whether the object exists). */
const CREATE_ON_UPDATE = new Set(['Endpoints', 'Lease', 'Event']);

export class KubernetesObjectModel implements ObjectModel {
  readonly namespaceType: ResourceType;

  constructor() {
    const namespaceType = RESOURCE_TYPES.find((type) => type.kind === 'Namespace');
    if (!namespaceType) throw new Error('the Namespace type is missing from RESOURCE_TYPES');
    this.namespaceType = namespaceType;
  }

  validate(input: {
    type: ResourceType;
    object: KubeObject;
    old?: KubeObject;
    fieldValidation: FieldValidation;
  }): ValidationResult {
    const result = validateObject({
      kind: input.type.kind,
      object: input.object,
      operation: input.old ? 'update' : 'create',
      fieldValidation: input.fieldValidation,
    });
    const causes = [...result.causes];
    if (input.old)
      causes.push(...validateUpdate({ kind: input.type.kind, old: input.old, updated: input.object }));
    return { causes, unknownFields: result.unknownFields, warnings: result.warnings };
  }

  validateStatus(input: { type: ResourceType; object: KubeObject; old: KubeObject }): ValidationResult {
    return validateStatusUpdate({ kind: input.type.kind, old: input.old, updated: input.object });
  }

  pruneUnknown(object: KubeObject, unknownFields: string[]): KubeObject {
    return pruneUnknownFields(object, unknownFields);
  }

  defaults(type: ResourceType, object: KubeObject): KubeObject {
    return applyDefaults(type.kind, object);
  }

  recordManagedFields(input: ManagedFieldsInput): KubeObject {
    return recordUpdate({
      kind: input.type.kind,
      apiVersion: apiVersionOf(input.type),
      old: input.old,
      updated: input.updated,
      manager: input.manager,
      now: new Date(),
      ...(input.subresource ? { subresource: input.subresource } : {}),
    });
  }

  allowsCreateOnUpdate(type: ResourceType): boolean {
    return CREATE_ON_UPDATE.has(type.kind);
  }
}
