// Everything kind-specific the write path needs, behind one seam: validation, defaults, managed
// fields, and Kubernetes' per-kind quirks.
import {
  RESOURCE_TYPES,
  apiVersionOf,
  type KubeObject,
  type ResourceType,
  type StatusCause,
} from '@flotilla/api';
import { recordUpdate } from '@flotilla/patch';
import { validateMetadata } from './object-validator';
import type { FieldValidation } from './request-options';

export interface ValidationResult {
  causes: StatusCause[];
  unknownFields: string[];
  warnings: string[];
}

export interface ManagedFieldsInput {
  type: ResourceType;
  old: KubeObject | undefined;
  updated: KubeObject;
  manager: string;
  operation: 'Update' | 'Apply';
}

export interface ObjectModel {
  readonly namespaceType: ResourceType;
  validate(input: {
    type: ResourceType;
    object: KubeObject;
    old?: KubeObject;
    fieldValidation: FieldValidation;
  }): ValidationResult;
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

  validate(input: { type: ResourceType; object: KubeObject }): ValidationResult {
    return { causes: validateMetadata(input.type, input.object), unknownFields: [], warnings: [] };
  }

  defaults(_type: ResourceType, object: KubeObject): KubeObject {
    return object;
  }

  recordManagedFields(input: ManagedFieldsInput): KubeObject {
    return recordUpdate({
      kind: input.type.kind,
      apiVersion: apiVersionOf(input.type),
      old: input.old,
      updated: input.updated,
      manager: input.manager,
      now: new Date(),
    });
  }

  allowsCreateOnUpdate(type: ResourceType): boolean {
    return CREATE_ON_UPDATE.has(type.kind);
  }
}
