// The OpenAPI v3 documents kubectl reads (/openapi/v3 and /openapi/v3/<group-version>), generated from
// the validation DTOs: every field, type, enum and range published here is one validateObject checks.
// kubectl explain resolves kinds through x-kubernetes-group-version-kind; the fieldValidation
// parameter on PATCH tells kubectl the server validates fields itself, so it sends objects as they are.
import { RESOURCE_TYPES, apiVersionOf, type ResourceType } from '../registry/resource-types';
import { dtoProperties, type DtoClass, type DtoProperty, type DtoRule } from './dto-introspection';
import {
  BINDING_DTO,
  KIND_DTOS,
  LIST_SEMANTICS,
  META_V1,
  QUANTITY,
  SCALE_DTO,
  componentName,
  type ListSemantics,
} from './schema-catalog';

export type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
// As Kubernetes publishes them: a named component kubectl explain shows as <IntOrString>, plus the
// structural-schema marker for tools that read the property alone.
const INT_OR_STRING_NAME = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const INT_OR_STRING: Schema = { allOf: [ref(INT_OR_STRING_NAME)], 'x-kubernetes-int-or-string': true };
const STRING_MAP: Schema = { type: 'object', additionalProperties: { type: 'string', default: '' } };

const ANY_VALUE: Schema = { description: 'Any value: the server does not constrain its type.' };

/** What each class-validator rule says about a value's shape; rules that only constrain content add nothing. */
const RULE_SCHEMAS: Readonly<Record<string, (rule: DtoRule) => Schema>> = {
  isString: () => ({ type: 'string' }),
  isInt: () => ({ type: 'integer', format: 'int32' }),
  isBoolean: () => ({ type: 'boolean' }),
  isObject: () => ({ type: 'object' }),
  isArray: () => ({ type: 'array' }),
  min: (rule) => ({ minimum: rule.constraints[0] }),
  max: (rule) => ({ maximum: rule.constraints[0] }),
  arrayNotEmpty: () => ({ minItems: 1 }),
  isOneOf: (rule) => ({ type: 'string', enum: rule.constraints[0] }),
  isDns1123Label: () => ({ type: 'string', maxLength: 63 }),
  isDns1123Subdomain: () => ({ type: 'string', maxLength: 253 }),
  isDns1035Label: () => ({ type: 'string', maxLength: 63 }),
  isPortName: () => ({ type: 'string', maxLength: 15 }),
  isLabelMap: () => STRING_MAP,
  isStringMap: () => STRING_MAP,
  isQuantity: () => ref(QUANTITY),
  isResourceList: () => ({ type: 'object', additionalProperties: ref(QUANTITY) }),
  isIntOrPercent: () => INT_OR_STRING,
  isPortNumberOrName: () => INT_OR_STRING,
};

/** Rule names the generator understands: the spec checks every DTO uses only these. */
export const KNOWN_RULES: readonly string[] = Object.keys(RULE_SCHEMAS);

function schemaFromRules(rules: readonly DtoRule[]): Schema {
  return rules.reduce<Schema>((schema, rule) => ({ ...schema, ...RULE_SCHEMAS[rule.name]?.(rule) }), {});
}

function extensions(semantics: ListSemantics | undefined): Schema {
  if (!semantics) return {};
  const result: Schema = {};
  if (semantics.listType) result['x-kubernetes-list-type'] = semantics.listType;
  if (semantics.mapKeys) result['x-kubernetes-list-map-keys'] = semantics.mapKeys;
  if (semantics.patchMergeKey) result['x-kubernetes-patch-merge-key'] = semantics.patchMergeKey;
  if (semantics.patchStrategy) result['x-kubernetes-patch-strategy'] = semantics.patchStrategy;
  if (semantics.mapType) result['x-kubernetes-map-type'] = semantics.mapType;
  return result;
}

/** Collects component schemas for a DTO and every class it reaches. */
class SchemaCollector {
  readonly schemas: Record<string, Schema> = {};
  private readonly visiting = new Set<DtoClass>();

  nameOf(type: DtoClass): string {
    // A DTO the catalog lacks still gets a stable, clearly non-Kubernetes name; the spec forbids it.
    return componentName(type) ?? `dev.flotilla.api.${type.name.replace(/Dto$/, '')}`;
  }

  add(type: DtoClass, extra: Schema = {}): string {
    const name = this.nameOf(type);
    if (this.schemas[name] || this.visiting.has(type)) return name;
    this.visiting.add(type);
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    for (const property of dtoProperties(type)) {
      properties[property.name] = this.propertySchema(name, property);
      if (property.required) required.push(property.name);
    }
    this.schemas[name] = {
      type: 'object',
      properties,
      ...(required.length > 0 ? { required } : {}),
      ...extra,
    };
    this.visiting.delete(type);
    return name;
  }

  private propertySchema(owner: string, property: DtoProperty): Schema {
    const semantics = extensions(LIST_SEMANTICS.get(`${owner}.${property.name}`));
    const itemRules = property.rules.filter((rule) => rule.each);
    const valueRules = property.rules.filter((rule) => !rule.each);
    if (property.nested) {
      const target = ref(this.add(property.nested));
      if (property.array) {
        return {
          ...schemaFromRules(valueRules),
          type: 'array',
          items: { allOf: [target], default: {} },
          ...semantics,
        };
      }
      return Object.keys(semantics).length > 0 ? { allOf: [target], ...semantics } : target;
    }
    const schema = schemaFromRules(valueRules);
    if (property.array) {
      schema['type'] = 'array';
      schema['items'] = itemRules.length > 0 ? schemaFromRules(itemRules) : ANY_VALUE;
    } else if (Object.keys(schema).length === 0) {
      // kubectl explain fails on an empty schema; the spec keeps DTOs from needing this.
      return { ...ANY_VALUE, ...semantics };
    } else if (schema['type'] === 'object' && schema['additionalProperties'] === undefined) {
      // A free-form object (a status the DTOs do not model field by field): accepted as it comes.
      schema['x-kubernetes-preserve-unknown-fields'] = true;
    }
    return { ...schema, ...semantics };
  }
}

function groupVersionPath(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group === '' ? `api/${type.version}` : `apis/${type.group}/${type.version}`;
}

function gvk(type: Pick<ResourceType, 'group' | 'version'>, kind: string): Schema {
  return { group: type.group, version: type.version, kind };
}

/** The /openapi/v3 index: one entry per group-version we serve, as kube-apiserver lists them. */
export function openApiV3Paths(): Record<string, { serverRelativeURL: string }> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const type of RESOURCE_TYPES) {
    const key = groupVersionPath(type);
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}` };
  }
  return paths;
}

const SHARED_SCHEMAS: Record<string, Schema> = {
  [QUANTITY]: {
    description:
      'A fixed-point number such as "100m", "1Gi" or "2"; plain numbers are accepted and kept exact.',
    oneOf: [{ type: 'string' }, { type: 'number' }],
  },
  [INT_OR_STRING_NAME]: {
    description: 'An integer or a string: a port number or name, a count or a percentage ("25%").',
    type: 'string',
    format: 'int-or-string',
  },
  [`${META_V1}.ListMeta`]: {
    type: 'object',
    properties: {
      resourceVersion: { type: 'string' },
      continue: { type: 'string' },
      remainingItemCount: { type: 'integer', format: 'int64' },
    },
  },
  [`${META_V1}.Status`]: {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { allOf: [ref(`${META_V1}.ListMeta`)], default: {} },
      status: { type: 'string' },
      message: { type: 'string' },
      reason: { type: 'string' },
      details: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      code: { type: 'integer', format: 'int32' },
    },
    'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'Status' }],
  },
  [`${META_V1}.Patch`]: {
    description: 'A patch body: JSON patch, merge patch, strategic merge patch or an apply configuration.',
    type: 'object',
  },
  [`${META_V1}.DeleteOptions`]: {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      gracePeriodSeconds: { type: 'integer', format: 'int64' },
      propagationPolicy: { type: 'string', enum: ['Orphan', 'Background', 'Foreground'] },
      dryRun: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'atomic' },
      preconditions: {
        type: 'object',
        properties: { uid: { type: 'string' }, resourceVersion: { type: 'string' } },
      },
    },
  },
};

const QUERY = (name: string, schema: Schema, description: string): Schema => ({
  name,
  in: 'query',
  description,
  schema,
  uniqueItems: true,
});

const WRITE_PARAMETERS: Schema[] = [
  QUERY(
    'dryRun',
    { type: 'string' },
    'When present ("All"), the request is validated and defaulted but not stored.',
  ),
  QUERY(
    'fieldManager',
    { type: 'string' },
    'The name of the actor making the change, recorded in managedFields.',
  ),
  QUERY(
    'fieldValidation',
    { type: 'string', enum: ['Ignore', 'Warn', 'Strict'] },
    'What to do with unknown or duplicate fields: Ignore drops them, Warn keeps a warning, Strict refuses the request.',
  ),
];

const PATCH_MEDIA_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

function jsonBody(schemaName: string): Schema {
  return {
    content: {
      'application/json': { schema: ref(schemaName) },
      'application/yaml': { schema: ref(schemaName) },
    },
  };
}

function operation(options: {
  action: string;
  kind: string;
  type: ResourceType;
  responseSchema: string;
  parameters?: Schema[];
  requestBody?: Schema;
  subresource?: string;
}): Schema {
  const suffix = options.subresource
    ? options.subresource[0]?.toUpperCase() + options.subresource.slice(1)
    : '';
  return {
    operationId: `${options.action}${options.type.namespaced ? 'Namespaced' : ''}${options.kind}${suffix}`,
    ...(options.parameters ? { parameters: options.parameters } : {}),
    ...(options.requestBody ? { requestBody: options.requestBody } : {}),
    responses: { '200': { description: 'OK', ...jsonBody(options.responseSchema) } },
    'x-kubernetes-action': options.action,
    'x-kubernetes-group-version-kind': gvk(options.type, options.kind),
  };
}

function itemOperations(options: {
  type: ResourceType;
  kind: string;
  schemaName: string;
  subresource?: string;
}): Schema {
  const { type, kind, schemaName, subresource } = options;
  return {
    get: operation({ action: 'get', kind, type, responseSchema: schemaName, subresource }),
    put: operation({
      action: 'put',
      kind,
      type,
      responseSchema: schemaName,
      parameters: WRITE_PARAMETERS,
      requestBody: { ...jsonBody(schemaName), required: true },
      subresource,
    }),
    patch: operation({
      action: 'patch',
      kind,
      type,
      responseSchema: schemaName,
      parameters: [
        ...WRITE_PARAMETERS,
        QUERY('force', { type: 'boolean' }, 'Take over conflicting fields on apply.'),
      ],
      requestBody: {
        content: Object.fromEntries(
          PATCH_MEDIA_TYPES.map((media) => [media, { schema: ref(`${META_V1}.Patch`) }]),
        ),
        required: true,
      },
      subresource,
    }),
  };
}

function pathsFor(
  type: ResourceType,
  schemaName: string,
  collector: SchemaCollector,
): Record<string, Schema> {
  const root = `/${groupVersionPath(type)}`;
  const collection = type.namespaced
    ? `${root}/namespaces/{namespace}/${type.plural}`
    : `${root}/${type.plural}`;
  const item = `${collection}/{name}`;
  const pathParameters = [
    { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
    ...(type.namespaced
      ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }]
      : []),
  ];
  const paths: Record<string, Schema> = {
    [collection]: {
      get: operation({ action: 'list', kind: type.kind, type, responseSchema: `${schemaName}List` }),
      post: operation({
        action: 'post',
        kind: type.kind,
        type,
        responseSchema: schemaName,
        parameters: WRITE_PARAMETERS,
        requestBody: { ...jsonBody(schemaName), required: true },
      }),
    },
    [item]: {
      parameters: pathParameters,
      ...itemOperations({ type, kind: type.kind, schemaName }),
      delete: {
        ...operation({ action: 'delete', kind: type.kind, type, responseSchema: `${META_V1}.Status` }),
        requestBody: jsonBody(`${META_V1}.DeleteOptions`),
      },
    },
  };
  if (type.subresources.includes('status')) {
    paths[`${item}/status`] = {
      parameters: pathParameters,
      ...itemOperations({ type, kind: type.kind, schemaName, subresource: 'status' }),
    };
  }
  if (type.subresources.includes('scale')) {
    const scale = collector.add(SCALE_DTO, {
      'x-kubernetes-group-version-kind': [{ group: 'autoscaling', version: 'v1', kind: 'Scale' }],
    });
    paths[`${item}/scale`] = {
      parameters: pathParameters,
      ...itemOperations({ type, kind: 'Scale', schemaName: scale, subresource: 'scale' }),
    };
  }
  if (type.subresources.includes('binding')) {
    const binding = collector.add(BINDING_DTO, {
      'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'Binding' }],
    });
    paths[`${item}/binding`] = {
      parameters: pathParameters,
      post: operation({
        action: 'post',
        kind: 'Binding',
        type,
        responseSchema: binding,
        parameters: WRITE_PARAMETERS,
        requestBody: { ...jsonBody(binding), required: true },
        subresource: 'binding',
      }),
    };
  }
  return paths;
}

function kindSchemaExtras(type: ResourceType): Schema {
  return {
    description: `${type.kind} (${apiVersionOf(type)}), as Flotilla serves and validates it.`,
    'x-kubernetes-group-version-kind': [gvk(type, type.kind)],
  };
}

/** Kubernetes' wording for the fields every kind shares, so kubectl explain has something to say. */
const TOP_LEVEL_DESCRIPTIONS: Readonly<Record<string, string>> = {
  apiVersion:
    'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
  kind: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase.',
  metadata: "Standard object's metadata.",
  spec: 'Specification of the desired behavior of the object.',
  status: 'Most recently observed status of the object. Populated by the system. Read-only.',
};

function describeTopLevelFields(schema: Schema | undefined): void {
  const properties = schema?.['properties'] as Record<string, Schema> | undefined;
  if (!properties) return;
  for (const [field, description] of Object.entries(TOP_LEVEL_DESCRIPTIONS)) {
    const property = properties[field];
    if (!property) continue;
    // OpenAPI 3.0 ignores keywords beside $ref, so a described reference goes through allOf.
    properties[field] =
      typeof property['$ref'] === 'string'
        ? { allOf: [{ $ref: property['$ref'] }], description, default: {} }
        : { ...property, description };
  }
}

function listSchema(type: ResourceType, itemSchema: string): Schema {
  return {
    description: `A list of ${type.kind} objects.`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { allOf: [ref(`${META_V1}.ListMeta`)], default: {} },
      items: { type: 'array', items: { allOf: [ref(itemSchema)], default: {} } },
    },
    'x-kubernetes-group-version-kind': [gvk(type, type.listKind)],
  };
}

/**
 * The document for one group-version path ("api/v1", "apis/apps/v1"), or undefined when we serve
 * no such group-version (the apiserver answers 404 then).
 */
export function openApiV3Document(groupVersion: string): object | undefined {
  const types = RESOURCE_TYPES.filter((type) => groupVersionPath(type) === groupVersion);
  const first = types[0];
  if (!first) return undefined;
  const collector = new SchemaCollector();
  let paths: Record<string, Schema> = {};
  for (const type of types) {
    const dto = KIND_DTOS.get(`${type.group}/${type.version}/${type.kind}`);
    if (!dto) continue;
    const schemaName = collector.add(dto, kindSchemaExtras(type));
    describeTopLevelFields(collector.schemas[schemaName]);
    collector.schemas[`${schemaName}List`] = listSchema(type, schemaName);
    paths = { ...paths, ...pathsFor(type, schemaName, collector) };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: apiVersionOf(first) },
    paths,
    components: { schemas: { ...SHARED_SCHEMAS, ...collector.schemas } },
  };
}
