// One entry point for validating an incoming object: strict structure from the DTOs (every unknown
// field named with its full path), Kubernetes' field rules, then the cross-field rules Kubernetes'
// ValidatePod/ValidateDeployment/ValidateService apply. Causes use Kubernetes' StatusCause shapes
// and wording.
import 'reflect-metadata';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { StatusCause } from '../meta/object.types';
import { tryParseQuantity } from '../quantity';
import { labelSelectorMatcher, SelectorError, type LabelSelector } from '../selectors/label-selector';
import {
  ConfigMapDto,
  EndpointsDto,
  EventDto,
  HorizontalPodAutoscalerDto,
  LeaseDto,
  NamespaceDto,
  NodeDto,
  SecretDto,
  ServiceDto,
} from './cluster.dto';
import { passesDtoChecks } from './dto-fast-check';
import { KubeObjectDto } from './meta.dto';
import { PodDto } from './pod.dto';
import {
  at,
  describeValue,
  isJson,
  isStringList,
  objectList,
  record,
  stringRecord,
  type Json,
} from './json-shape';
import {
  deploymentRuleCauses,
  endpointsRuleCauses,
  hpaRuleCauses,
  nameRuleFor,
  nodeRuleCauses,
  objectMetaRuleCauses,
  podSpecRuleCauses,
  serviceRuleCauses,
} from './spec-rules';
import { BindingDto, ScaleDto } from './subresource.dto';
import { DeploymentDto, ReplicaSetDto } from './workload.dto';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface ValidateObjectOptions {
  kind: string;
  object: unknown;
  /** Only a create may leave the name to generateName; defaults to 'create'. */
  operation?: 'create' | 'update';
  fieldValidation: FieldValidation;
}

export interface ObjectValidation {
  causes: StatusCause[];
  /** Full paths of fields the kind does not have, e.g. "spec.template.spec.containers[0].imagePolicy". */
  unknownFields: string[];
  warnings: string[];
}

const DTOS: Record<string, ClassConstructor<object>> = {
  Pod: PodDto,
  Deployment: DeploymentDto,
  ReplicaSet: ReplicaSetDto,
  Service: ServiceDto,
  Endpoints: EndpointsDto,
  Namespace: NamespaceDto,
  ConfigMap: ConfigMapDto,
  Secret: SecretDto,
  Node: NodeDto,
  Event: EventDto,
  Lease: LeaseDto,
  HorizontalPodAutoscaler: HorizontalPodAutoscalerDto,
  Scale: ScaleDto,
  Binding: BindingDto,
};

/** The options passesDtoChecks models; change them together. */
const DTO_VALIDATOR_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: false,
} as const;

function childPath(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent === '' ? property : `${parent}.${property}`;
}

/** A class-validator message, as Kubernetes words it: the reason tag decides the cause's reason. */
function causeFor(field: string, value: unknown, property: string, message: string): StatusCause {
  if (message.startsWith('Required:'))
    return { reason: 'FieldValueRequired', message: 'Required value', field };
  if (message.startsWith('Unsupported:')) {
    return {
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${describeValue(value)}: ${message.slice('Unsupported:'.length)}`,
      field,
    };
  }
  if (value === undefined || value === null)
    return { reason: 'FieldValueRequired', message: 'Required value', field };
  const text = message.startsWith('Invalid:')
    ? message.slice('Invalid:'.length)
    : message.replace(new RegExp(`^${property} `), '');
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${describeValue(value)}: ${text}`, field };
}

/** class-validator's type rules, and what Kubernetes' decoder would say about the value. */
const TYPE_RULES: Readonly<Record<string, string>> = {
  isString: 'must be a string',
  isInt: 'must be an integer',
  isBoolean: 'must be a boolean',
  isArray: 'must be a list',
  isObject: 'must be an object',
  nestedValidation: 'must be an object',
};

function typeMismatchCause(
  field: string,
  value: unknown,
  constraints: Record<string, string>,
): StatusCause | undefined {
  if (value === undefined || value === null) return undefined;
  const rule = Object.keys(constraints).find((name) => TYPE_RULES[name] !== undefined);
  if (rule === undefined) return undefined;
  // A rule checked on each item ("each value in args must be a string") faults the items, not the list.
  const expected = constraints[rule]?.startsWith('each value in ')
    ? `each item ${TYPE_RULES[rule] ?? ''}`
    : TYPE_RULES[rule];
  return {
    reason: 'FieldValueTypeInvalid',
    message: `Invalid value: ${describeValue(value)}: ${expected ?? ''}`,
    field,
  };
}

// Map keys class-transformer mistakes for an object's own machinery (a "constructor" label makes it
// throw, a "__proto__" key it drops silently) travel through it escaped and come back as written.
const ESCAPED_KEY_PREFIX = '\u0000key:';
const SPECIAL_KEYS = new Set(['constructor', '__proto__', 'prototype']);

function escapeSpecialKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(escapeSpecialKeys);
  if (typeof value !== 'object' || value === null) return value;
  const escaped: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    escaped[SPECIAL_KEYS.has(key) ? `${ESCAPED_KEY_PREFIX}${key}` : key] = escapeSpecialKeys(child);
  }
  return escaped;
}

/** Puts escaped keys back, in place, on what plainToInstance made, so validators see them as sent. */
function restoreSpecialKeys<T>(value: T): T {
  if (Array.isArray(value)) {
    value.forEach(restoreSpecialKeys);
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const child = restoreSpecialKeys(record[key]);
      // "__proto__" stays escaped: class-validator's whitelist would find it on every object's
      // prototype chain and let it pass; escaped, it is reported unknown under its own name.
      if (!key.startsWith(ESCAPED_KEY_PREFIX) || key === `${ESCAPED_KEY_PREFIX}__proto__`) continue;
      delete record[key];
      Object.defineProperty(record, key.slice(ESCAPED_KEY_PREFIX.length), {
        value: child,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return value;
}

function unescapeKeys(text: string): string {
  return text.split(ESCAPED_KEY_PREFIX).join('');
}

function collect(errors: ValidationError[], parent: string, causes: StatusCause[], unknown: string[]): void {
  for (const error of errors) {
    const field = childPath(parent, unescapeKeys(error.property));
    const constraints = error.constraints ?? {};
    if (constraints['whitelistValidation']) {
      unknown.push(field);
    } else {
      // One cause per field, as Kubernetes reports one problem per field: a value of the wrong type
      // first (its range or format rules would only mislead), else the first failing rule.
      const typeCause = typeMismatchCause(field, error.value, constraints);
      const [first] = Object.values(constraints);
      if (typeCause) causes.push(typeCause);
      else if (constraints['arrayNotEmpty'] !== undefined)
        causes.push({ reason: 'FieldValueRequired', message: 'Required value', field });
      else if (first !== undefined)
        causes.push(causeFor(field, error.value, unescapeKeys(error.property), unescapeKeys(first)));
    }
    if (error.children && error.children.length > 0) collect(error.children, field, causes, unknown);
  }
}

function isWellFormedSelector(value: unknown): value is LabelSelector {
  if (!isJson(value)) return false;
  const { matchLabels, matchExpressions } = value;
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isJson(matchLabels) || !Object.values(matchLabels).every((label) => typeof label === 'string'))
      return false;
  }
  if (matchExpressions === undefined || matchExpressions === null) return true;
  return (
    Array.isArray(matchExpressions) &&
    matchExpressions.every(
      (expression) =>
        isJson(expression) &&
        typeof expression['key'] === 'string' &&
        typeof expression['operator'] === 'string' &&
        (expression['values'] === undefined ||
          expression['values'] === null ||
          isStringList(expression['values'])),
    )
  );
}

function nameCauses(kind: string, object: unknown, operation: 'create' | 'update'): StatusCause[] {
  const name = at(object, 'metadata', 'name');
  const generateName = at(object, 'metadata', 'generateName');
  if (typeof name !== 'string' || name === '') {
    if (operation === 'update') {
      return [
        { reason: 'FieldValueRequired', message: 'Required value: name is required', field: 'metadata.name' },
      ];
    }
    if (typeof generateName === 'string' && generateName !== '') return [];
    return [
      {
        reason: 'FieldValueRequired',
        message: 'Required value: name or generateName is required',
        field: 'metadata.name',
      },
    ];
  }
  return nameRuleFor(kind)(name).map((problem) => ({
    reason: 'FieldValueInvalid',
    message: `Invalid value: "${name}": ${problem}`,
    field: 'metadata.name',
  }));
}

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

function annotationSizeCauses(object: unknown): StatusCause[] {
  const annotations = record(at(object, 'metadata', 'annotations'));
  let bytes = 0;
  for (const [key, value] of Object.entries(annotations))
    bytes += key.length + (typeof value === 'string' ? value.length : 0);
  if (bytes <= TOTAL_ANNOTATION_SIZE_LIMIT) return [];
  return [
    {
      reason: 'FieldValueTooLong',
      message: `Too long: must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes`,
      field: 'metadata.annotations',
    },
  ];
}

function podSpecCauses(spec: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const volumes = objectList(at(spec, 'volumes'));
  const volumeNames = new Set<string>();
  volumes.forEach((volume, index) => {
    const name = String(volume['name'] ?? '');
    if (volumeNames.has(name)) {
      causes.push({
        reason: 'FieldValueDuplicate',
        message: `Duplicate value: "${name}"`,
        field: `${path}.volumes[${index}].name`,
      });
    }
    volumeNames.add(name);
  });
  const names = new Set<string>();
  for (const list of ['initContainers', 'containers']) {
    const containers = objectList(at(spec, list));
    containers.forEach((container, index) => {
      const where = `${path}.${list}[${index}]`;
      const name = String(container['name'] ?? '');
      if (names.has(name))
        causes.push({
          reason: 'FieldValueDuplicate',
          message: `Duplicate value: "${name}"`,
          field: `${where}.name`,
        });
      names.add(name);
      const requests = record(at(container, 'resources', 'requests'));
      const limits = record(at(container, 'resources', 'limits'));
      for (const [resource, raw] of Object.entries(requests)) {
        const request = tryParseQuantity(typeof raw === 'number' ? String(raw) : raw);
        const limitRaw = limits[resource];
        const limit = tryParseQuantity(typeof limitRaw === 'number' ? String(limitRaw) : limitRaw);
        if (request && limit && request.cmp(limit) > 0) {
          causes.push({
            reason: 'FieldValueInvalid',
            message: `Invalid value: "${String(raw)}": must be less than or equal to ${resource} limit of ${String(limitRaw)}`,
            field: `${where}.resources.requests`,
          });
        }
      }
      const mounts = objectList(at(container, 'volumeMounts'));
      mounts.forEach((mount, mountIndex) => {
        const volume = String(mount['name'] ?? '');
        if (!volumeNames.has(volume)) {
          causes.push({
            reason: 'FieldValueNotFound',
            message: `Not found: "${volume}"`,
            field: `${where}.volumeMounts[${mountIndex}].name`,
          });
        }
      });
    });
  }
  return causes;
}

function percentOrInt(value: unknown): { percent: boolean; amount: number } | undefined {
  if (typeof value === 'number') return { percent: false, amount: value };
  if (typeof value === 'string' && /^[0-9]+%$/.test(value))
    return { percent: true, amount: Number(value.slice(0, -1)) };
  return undefined;
}

function workloadCauses(kind: string, object: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  const selector = at(object, 'spec', 'selector');
  const templateLabels = stringRecord(at(object, 'spec', 'template', 'metadata', 'labels'));
  // A selector of the wrong shape was reported by the DTO checks; matching it would mean nothing.
  if (isWellFormedSelector(selector)) {
    try {
      const matcher = labelSelectorMatcher(selector);
      if (matcher.empty) {
        causes.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${describeValue(selector)}: empty selector is invalid for ${kind.toLowerCase()}`,
          field: 'spec.selector',
        });
      } else if (!matcher.matches(templateLabels)) {
        causes.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${describeValue(templateLabels)}: \`selector\` does not match template \`labels\``,
          field: 'spec.template.metadata.labels',
        });
      }
    } catch (error) {
      if (!(error instanceof SelectorError)) throw error;
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${describeValue(selector)}: ${error.message}`,
        field: 'spec.selector',
      });
    }
  }
  const restartPolicy = at(object, 'spec', 'template', 'spec', 'restartPolicy');
  if (restartPolicy !== undefined && restartPolicy !== 'Always') {
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: "${String(restartPolicy)}": supported values: "Always"`,
      field: 'spec.template.spec.restartPolicy',
    });
  }
  const template = at(object, 'spec', 'template', 'spec');
  if (template !== undefined) causes.push(...podSpecCauses(template, 'spec.template.spec'));
  if (kind === 'Deployment') {
    const strategyType = at(object, 'spec', 'strategy', 'type');
    const rolling = at(object, 'spec', 'strategy', 'rollingUpdate');
    if (strategyType === 'Recreate' && rolling !== undefined) {
      causes.push({
        reason: 'FieldValueForbidden',
        message: "Forbidden: may not be specified when strategy `type` is 'Recreate'",
        field: 'spec.strategy.rollingUpdate',
      });
    }
    const surge = percentOrInt(at(rolling, 'maxSurge'));
    const unavailable = percentOrInt(at(rolling, 'maxUnavailable'));
    if (unavailable?.percent && unavailable.amount > 100) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${unavailable.amount}%": must not be greater than 100%`,
        field: 'spec.strategy.rollingUpdate.maxUnavailable',
      });
    }
    if (surge && unavailable && surge.amount === 0 && unavailable.amount === 0) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${describeValue(at(rolling, 'maxUnavailable'))}: may not be 0 when \`maxSurge\` is 0`,
        field: 'spec.strategy.rollingUpdate.maxUnavailable',
      });
    }
  }
  return causes;
}

function serviceCauses(object: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  const type = at(object, 'spec', 'type') ?? 'ClusterIP';
  const ports = objectList(at(object, 'spec', 'ports'));
  if (type !== 'ExternalName' && ports.length === 0) {
    causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.ports' });
  }
  const names = new Set<string>();
  ports.forEach((port, index) => {
    const name = port['name'];
    if (ports.length > 1 && (typeof name !== 'string' || name === '')) {
      causes.push({
        reason: 'FieldValueRequired',
        message: 'Required value',
        field: `spec.ports[${index}].name`,
      });
    }
    if (typeof name === 'string' && name !== '') {
      if (names.has(name))
        causes.push({
          reason: 'FieldValueDuplicate',
          message: `Duplicate value: "${name}"`,
          field: `spec.ports[${index}].name`,
        });
      names.add(name);
    }
    if (port['nodePort'] !== undefined && type !== 'NodePort' && type !== 'LoadBalancer') {
      causes.push({
        reason: 'FieldValueForbidden',
        message: "Forbidden: may not be used when `type` is 'ClusterIP'",
        field: `spec.ports[${index}].nodePort`,
      });
    }
  });
  // What the node agents' service proxy does not do is refused rather than silently ignored.
  const unsupported: Array<[string, string, string]> = [
    ['sessionAffinity', 'None', 'every connection goes to a backend picked at random'],
    ['externalTrafficPolicy', 'Cluster', 'node ports reach endpoints on every node'],
    ['internalTrafficPolicy', 'Cluster', 'cluster IPs reach endpoints on every node'],
  ];
  for (const [field, supported, why] of unsupported) {
    const value = at(object, 'spec', field);
    if (value !== undefined && value !== supported) {
      causes.push({
        reason: 'FieldValueNotSupported',
        message: `Unsupported value: ${describeValue(value)}: supported values: "${supported}" (${why})`,
        field: `spec.${field}`,
      });
    }
  }
  return causes;
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
/** Kubernetes caps a ConfigMap's or Secret's data at 1 MiB, as etcd's value size would anyway. */
const MAX_DATA_BYTES = 1024 * 1024;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Keys a Secret of each built-in type must carry (in data or stringData). */
const SECRET_TYPE_KEYS: Readonly<Record<string, readonly string[]>> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

/** ConfigMap and Secret: key names, base64 where JSON carries bytes, total size, per-type keys. */
function dataCauses(kind: string, object: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  // Secret data and ConfigMap binaryData carry bytes, base64 in JSON.
  const maps = kind === 'Secret' ? { data: true, stringData: false } : { data: false, binaryData: true };
  const seen = new Map<string, string>();
  let bytes = 0;
  for (const [mapName, isBase64] of Object.entries(maps)) {
    for (const [key, value] of Object.entries(record(at(object, mapName)))) {
      const field = `${mapName}[${key}]`;
      if (key.length > 253 || !CONFIG_KEY.test(key)) {
        causes.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${describeValue(key)}: ${CONFIG_KEY_MESSAGE}`,
          field,
        });
      }
      const earlier = seen.get(key);
      // A Secret's stringData overrides its data by design; a ConfigMap's two maps must not overlap.
      if (earlier !== undefined && kind === 'ConfigMap') {
        causes.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${describeValue(key)}: duplicate of key present in ${earlier}`,
          field,
        });
      }
      seen.set(key, mapName);
      if (typeof value !== 'string') continue;
      if (isBase64 && !BASE64.test(value)) {
        causes.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${describeValue(value)}: must be base64-encoded (e.g. "aGVsbG8=" for "hello")`,
          field,
        });
      }
      bytes += isBase64 ? Math.floor((value.replace(/=+$/, '').length * 3) / 4) : Buffer.byteLength(value);
    }
  }
  if (bytes > MAX_DATA_BYTES) {
    causes.push({
      reason: 'FieldValueTooLong',
      message: `Too long: must have at most ${MAX_DATA_BYTES} bytes`,
      field: kind === 'Secret' ? 'data' : '',
    });
  }
  const type = at(object, 'type');
  if (kind === 'Secret' && typeof type === 'string') {
    for (const key of SECRET_TYPE_KEYS[type] ?? []) {
      if (!seen.has(key))
        causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `data[${key}]` });
    }
  }
  return causes;
}

function hpaCauses(object: unknown): StatusCause[] {
  const min = at(object, 'spec', 'minReplicas');
  const max = at(object, 'spec', 'maxReplicas');
  if (typeof min === 'number' && typeof max === 'number' && max < min) {
    return [
      {
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${max}: must be greater than or equal to \`minReplicas\``,
        field: 'spec.maxReplicas',
      },
    ];
  }
  return [];
}

function specRuleCauses(kind: string, object: unknown): StatusCause[] {
  switch (kind) {
    case 'Pod':
      return podSpecRuleCauses(at(object, 'spec'), 'spec');
    case 'Deployment':
    case 'ReplicaSet': {
      const template = at(object, 'spec', 'template', 'spec');
      return [
        ...(kind === 'Deployment' ? deploymentRuleCauses(object) : []),
        ...(template === undefined ? [] : podSpecRuleCauses(template, 'spec.template.spec')),
      ];
    }
    case 'Service':
      return serviceRuleCauses(object);
    case 'HorizontalPodAutoscaler':
      return hpaRuleCauses(object);
    case 'Node':
      return nodeRuleCauses(object);
    case 'Endpoints':
      return endpointsRuleCauses(object);
    default:
      return [];
  }
}

export function validateObject(options: ValidateObjectOptions): ObjectValidation {
  const { kind, object } = options;
  const dto = DTOS[kind];
  if (!dto)
    return {
      causes: [{ reason: 'FieldValueNotSupported', message: `Unsupported value: "${kind}"`, field: 'kind' }],
      unknownFields: [],
      warnings: [],
    };
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    return {
      causes: [
        { reason: 'FieldValueTypeInvalid', message: 'Invalid value: the object must be a map', field: '' },
      ],
      unknownFields: [],
      warnings: [],
    };
  }
  // Most objects are valid: the compiled check says so cheaply, and only an object it has doubts
  // about pays for class-transformer and class-validator's full run, which words every error.
  const errors =
    passesDtoChecks(dto, object) === true
      ? []
      : validateSync(
          restoreSpecialKeys(plainToInstance(dto, escapeSpecialKeys(object))),
          DTO_VALIDATOR_OPTIONS,
        );
  const causes: StatusCause[] = [];
  const unknownFields: string[] = [];
  collect(errors, '', causes, unknownFields);
  causes.push(...nameCauses(kind, object, options.operation ?? 'create'));
  causes.push(...objectMetaRuleCauses(kind, object));
  causes.push(...annotationSizeCauses(object));
  if (kind === 'Pod') causes.push(...podSpecCauses(at(object, 'spec'), 'spec'));
  if (kind === 'Deployment' || kind === 'ReplicaSet') causes.push(...workloadCauses(kind, object));
  if (kind === 'Service') causes.push(...serviceCauses(object));
  if (kind === 'HorizontalPodAutoscaler') causes.push(...hpaCauses(object));
  if (kind === 'ConfigMap' || kind === 'Secret') causes.push(...dataCauses(kind, object));
  causes.push(...specRuleCauses(kind, object));
  const warnings =
    options.fieldValidation === 'Warn' ? unknownFields.map((field) => `unknown field "${field}"`) : [];
  return { causes, unknownFields, warnings };
}

export interface ValidateStatusUpdateOptions {
  kind: string;
  /** The stored object. */
  old: unknown;
  /** What the status write would store: the stored object with the new status. */
  updated: unknown;
}

/** Top-level members a status write never changes besides metadata and status themselves. */
const TYPE_MEMBERS = new Set(['apiVersion', 'kind', 'metadata', 'status']);

/**
 * A write to the status subresource, checked as Kubernetes' ValidatePodStatusUpdate (and its kin
 * for the other kinds) checks it: the object's metadata against the update rules, and the status.
 * The spec is not validated again: the status strategy keeps the stored one, which was validated
 * when it was written, and a write whose spec differs from the stored one is refused here, so a
 * status write can never change it. Status is a free-form object in every kind's schema (the DTOs
 * say @IsObject), as validateObject checks it.
 */
export function validateStatusUpdate(options: ValidateStatusUpdateOptions): ObjectValidation {
  const { kind, old, updated } = options;
  const causes: StatusCause[] = [];
  const before = record(old);
  const after = record(updated);
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (TYPE_MEMBERS.has(key)) continue;
    // The strategy hands the stored members over as they are: identity says "unchanged" for free.
    const same = before[key] === after[key] || JSON.stringify(before[key]) === JSON.stringify(after[key]);
    if (!same) {
      causes.push({
        reason: 'FieldValueForbidden',
        message: 'Forbidden: a status update may not change fields other than status',
        field: key,
      });
    }
  }
  // The stored metadata as it is (what the status strategy writes) was validated when stored.
  if (after['metadata'] !== before['metadata']) causes.push(...metadataUpdateCauses(kind, before, after));
  const status = after['status'];
  if (status !== undefined && status !== null && (typeof status !== 'object' || Array.isArray(status))) {
    causes.push({
      reason: 'FieldValueTypeInvalid',
      message: `Invalid value: ${describeValue(status)}: must be an object`,
      field: 'status',
    });
  }
  return { causes, unknownFields: [], warnings: [] };
}

/** Kubernetes' ValidateObjectMetaUpdate: valid metadata, and what identifies the object unchanged. */
function metadataUpdateCauses(kind: string, old: Json, updated: Json): StatusCause[] {
  const metadata = updated['metadata'];
  const errors =
    typeof metadata === 'object' && metadata !== null && passesDtoChecks(KubeObjectDto, { metadata }) === true
      ? []
      : validateSync(
          restoreSpecialKeys(plainToInstance(KubeObjectDto, escapeSpecialKeys({ metadata }))),
          DTO_VALIDATOR_OPTIONS,
        );
  const causes: StatusCause[] = [];
  const unknownFields: string[] = [];
  collect(errors, '', causes, unknownFields);
  for (const field of unknownFields) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: unknown field "${field}"`, field });
  }
  causes.push(...nameCauses(kind, updated, 'update'));
  causes.push(...objectMetaRuleCauses(kind, updated));
  causes.push(...annotationSizeCauses(updated));
  for (const field of ['name', 'namespace', 'uid', 'creationTimestamp']) {
    const was = at(old, 'metadata', field);
    const now = at(updated, 'metadata', field);
    if (was !== now) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${describeValue(now)}: field is immutable`,
        field: `metadata.${field}`,
      });
    }
  }
  return causes;
}

/** Removes fields at the given paths (as validateObject reports them) from a copy of `object`. */
export function pruneUnknownFields<T>(object: T, paths: readonly string[]): T {
  const copy = JSON.parse(JSON.stringify(object)) as T;
  for (const path of paths) {
    const segments = path
      .replace(/\[(\d+)\]/g, '.$1')
      .split('.')
      .filter((segment) => segment !== '');
    const last = segments.pop();
    if (last === undefined) continue;
    let current: unknown = copy;
    for (const segment of segments) {
      current = typeof current === 'object' && current !== null ? (current as Json)[segment] : undefined;
    }
    if (typeof current === 'object' && current !== null) delete (current as Json)[last];
  }
  return copy;
}

/** Kubernetes' immutable fields: changing them on update is refused. */
export function validateUpdate(options: { kind: string; old: unknown; updated: unknown }): StatusCause[] {
  const { kind, old, updated } = options;
  const causes: StatusCause[] = [];
  const immutable = (field: string, ...path: string[]): void => {
    if (JSON.stringify(at(old, ...path)) !== JSON.stringify(at(updated, ...path))) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${describeValue(at(updated, ...path))}: field is immutable`,
        field,
      });
    }
  };
  if (kind === 'Deployment' || kind === 'ReplicaSet') immutable('spec.selector', 'spec', 'selector');
  if (kind === 'Service') {
    const oldIp = at(old, 'spec', 'clusterIP');
    if (oldIp !== undefined && oldIp !== '' && at(updated, 'spec', 'clusterIP') !== undefined)
      immutable('spec.clusterIP', 'spec', 'clusterIP');
  }
  if ((kind === 'ConfigMap' || kind === 'Secret') && at(old, 'immutable') === true) {
    immutable('immutable', 'immutable');
    immutable('data', 'data');
    if (kind === 'ConfigMap') immutable('binaryData', 'binaryData');
  }
  if (kind === 'Secret') immutable('type', 'type');
  if (kind === 'Node') {
    const oldCidr = at(old, 'spec', 'podCIDR');
    if (typeof oldCidr === 'string' && oldCidr !== '') immutable('spec.podCIDR', 'spec', 'podCIDR');
  }
  if (kind === 'Pod') {
    const strip = (value: unknown): unknown => {
      const spec = { ...record(at(value, 'spec')) };
      const withoutImages = (list: unknown) =>
        objectList(list).map((container) => ({ ...container, image: undefined }));
      return {
        ...spec,
        containers: withoutImages(spec['containers']),
        initContainers: withoutImages(spec['initContainers']),
        activeDeadlineSeconds: undefined,
        tolerations: undefined,
        // Binding sets the node of an unbound pod; a bound pod keeps its node (checked below).
        nodeName: undefined,
      };
    };
    if (JSON.stringify(strip(old)) !== JSON.stringify(strip(updated))) {
      causes.push({
        reason: 'FieldValueForbidden',
        message:
          'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)',
        field: 'spec',
      });
    }
    const oldNode = at(old, 'spec', 'nodeName');
    if (typeof oldNode === 'string' && oldNode !== '') immutable('spec.nodeName', 'spec', 'nodeName');
    // Existing tolerations stay as they are (only tolerationSeconds may change); new ones may be added.
    const withoutSeconds = (toleration: Json): string =>
      JSON.stringify({ ...toleration, tolerationSeconds: undefined });
    const kept = new Set(objectList(at(updated, 'spec', 'tolerations')).map(withoutSeconds));
    if (
      objectList(at(old, 'spec', 'tolerations')).some((toleration) => !kept.has(withoutSeconds(toleration)))
    ) {
      causes.push({
        reason: 'FieldValueForbidden',
        message: 'Forbidden: existing toleration can not be modified except its tolerationSeconds',
        field: 'spec.tolerations',
      });
    }
  }
  return causes;
}
