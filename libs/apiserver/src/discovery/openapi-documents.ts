// OpenAPI v3 documents per group-version, generated from RESOURCE_TYPES. kubectl reads them to learn
// that the server validates fields itself (the `fieldValidation` parameter on PATCH): it then sends
// objects as they are and lets the server's strict validation answer, rather than validating
// client-side. Schemas name every kind with its group-version-kind so `kubectl explain` finds it.
import { RESOURCE_TYPES, apiVersionOf, type ResourceType } from '@flotilla/api';

type Schema = Record<string, unknown>;

function schemaName(type: Pick<ResourceType, 'group' | 'version' | 'kind'>): string {
  const group = type.group === '' ? 'core' : (type.group.split('.')[0] ?? type.group);
  return `io.k8s.api.${group}.${type.version}.${type.kind}`;
}

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const LIST_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta';
const STATUS = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';

function gvk(type: ResourceType): Schema {
  return { group: type.group, version: type.version, kind: type.kind };
}

function kindSchema(type: ResourceType): Schema {
  return {
    type: 'object',
    description: `${type.kind} as Kubernetes defines it; the server validates every field strictly.`,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { allOf: [{ $ref: `#/components/schemas/${OBJECT_META}` }], default: {} },
      spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    // Kinds without spec (ConfigMap, Secret, Event, Endpoints) carry top-level fields of their own.
    'x-kubernetes-preserve-unknown-fields': true,
    'x-kubernetes-group-version-kind': [gvk(type)],
  };
}

function listSchema(type: ResourceType): Schema {
  return {
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { allOf: [{ $ref: `#/components/schemas/${LIST_META}` }], default: {} },
      items: {
        type: 'array',
        items: { allOf: [{ $ref: `#/components/schemas/${schemaName(type)}` }], default: {} },
      },
    },
    'x-kubernetes-group-version-kind': [{ ...gvk(type), kind: type.listKind }],
  };
}

const SHARED_SCHEMAS: Record<string, Schema> = {
  [OBJECT_META]: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      generateName: { type: 'string' },
      namespace: { type: 'string' },
      uid: { type: 'string' },
      resourceVersion: { type: 'string' },
      generation: { type: 'integer', format: 'int64' },
      creationTimestamp: { type: 'string', format: 'date-time' },
      deletionTimestamp: { type: 'string', format: 'date-time' },
      deletionGracePeriodSeconds: { type: 'integer', format: 'int64' },
      labels: { type: 'object', additionalProperties: { type: 'string', default: '' } },
      annotations: { type: 'object', additionalProperties: { type: 'string', default: '' } },
      finalizers: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'set' },
      ownerReferences: {
        type: 'array',
        items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        'x-kubernetes-patch-merge-key': 'uid',
        'x-kubernetes-patch-strategy': 'merge',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['uid'],
      },
      managedFields: {
        type: 'array',
        items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
  },
  [LIST_META]: {
    type: 'object',
    properties: {
      resourceVersion: { type: 'string' },
      continue: { type: 'string' },
      remainingItemCount: { type: 'integer', format: 'int64' },
    },
  },
  [STATUS]: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
};

const WRITE_PARAMETERS = ['dryRun', 'fieldManager', 'fieldValidation'].map((name) => ({
  name,
  in: 'query',
  schema: { type: 'string', uniqueItems: true },
}));

function ref(name: string): Schema {
  return { content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } } };
}

function operation(type: ResourceType, action: string, extra: Schema = {}): Schema {
  return {
    operationId: `${action}${type.kind}`,
    responses: { '200': { description: 'OK', ...ref(schemaName(type)) } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk(type),
    ...extra,
  };
}

function pathsFor(type: ResourceType): Record<string, Schema> {
  const root = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  const collection = type.namespaced
    ? `${root}/namespaces/{namespace}/${type.plural}`
    : `${root}/${type.plural}`;
  const item = `${collection}/{name}`;
  const patchBody = {
    requestBody: {
      content: Object.fromEntries(
        [
          'application/apply-patch+yaml',
          'application/json-patch+json',
          'application/merge-patch+json',
          'application/strategic-merge-patch+json',
        ].map((media) => [media, { schema: { type: 'object' } }]),
      ),
      required: true,
    },
  };
  return {
    [collection]: {
      get: operation(type, 'list', {
        responses: { '200': { description: 'OK', ...ref(`${schemaName(type)}List`) } },
      }),
      post: operation(type, 'post', { parameters: WRITE_PARAMETERS, requestBody: ref(schemaName(type)) }),
    },
    [item]: {
      get: operation(type, 'get'),
      put: operation(type, 'put', { parameters: WRITE_PARAMETERS, requestBody: ref(schemaName(type)) }),
      patch: operation(type, 'patch', {
        parameters: [...WRITE_PARAMETERS, { name: 'force', in: 'query', schema: { type: 'boolean' } }],
        ...patchBody,
      }),
      delete: operation(type, 'delete', { responses: { '200': { description: 'OK', ...ref(STATUS) } } }),
    },
  };
}

/** The /openapi/v3 index: one entry per group-version we serve. */
export function openApiV3Paths(): Record<string, { serverRelativeURL: string }> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const type of RESOURCE_TYPES) {
    const key = type.group === '' ? `api/${type.version}` : `apis/${type.group}/${type.version}`;
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}` };
  }
  return paths;
}

/** The document for `api/v1` or `apis/GROUP/VERSION`, or undefined when we serve no such group-version. */
export function openApiV3Document(groupVersionPath: string): object | undefined {
  const types = RESOURCE_TYPES.filter((type) => {
    const key = type.group === '' ? `api/${type.version}` : `apis/${type.group}/${type.version}`;
    return key === groupVersionPath;
  });
  const first = types[0];
  if (!first) return undefined;
  const schemas: Record<string, Schema> = { ...SHARED_SCHEMAS };
  let paths: Record<string, Schema> = {};
  for (const type of types) {
    schemas[schemaName(type)] = kindSchema(type);
    schemas[`${schemaName(type)}List`] = listSchema(type);
    paths = { ...paths, ...pathsFor(type) };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Flotilla', version: apiVersionOf(first) },
    paths,
    components: { schemas },
  };
}
