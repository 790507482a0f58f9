import { RESOURCE_TYPES } from '../registry/resource-types';
import { dtoProperties, type DtoClass } from './dto-introspection';
import { KNOWN_RULES, openApiV3Document, openApiV3Paths, type Schema } from './openapi-document';
import { BINDING_DTO, KIND_DTOS, LIST_SEMANTICS, SCALE_DTO, componentName } from './schema-catalog';

interface Document {
  paths: Record<string, Record<string, Schema>>;
  components: { schemas: Record<string, Schema> };
}

function documentFor(groupVersion: string): Document {
  const document = openApiV3Document(groupVersion);
  if (!document) throw new Error(`no document for ${groupVersion}`);
  return document as Document;
}

const GROUP_VERSIONS = Object.keys(openApiV3Paths());
const ALL_SCHEMAS: Record<string, Schema> = Object.assign(
  {},
  ...GROUP_VERSIONS.map((groupVersion) => documentFor(groupVersion).components.schemas),
);

function schema(name: string): Schema {
  const found = ALL_SCHEMAS[name];
  if (!found) throw new Error(`no component ${name}`);
  return found;
}

function property(component: string, field: string): Schema {
  const properties = schema(component)['properties'] as Record<string, Schema> | undefined;
  const found = properties?.[field];
  if (!found) throw new Error(`${component} has no property ${field}`);
  return found;
}

interface ExpectedSemantics {
  listType: string;
  keys?: string[];
  mergeKey?: string;
  strategy?: string;
}

function reachableDtos(): DtoClass[] {
  const seen = new Set<DtoClass>();
  const visit = (type: DtoClass): void => {
    if (seen.has(type)) return;
    seen.add(type);
    for (const field of dtoProperties(type)) if (field.nested) visit(field.nested);
  };
  for (const type of [...KIND_DTOS.values(), SCALE_DTO, BINDING_DTO]) visit(type);
  return [...seen];
}

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item) => refsIn(item, found));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, entry] of Object.entries(value)) {
      if (key === '$ref' && typeof entry === 'string') found.push(entry);
      else refsIn(entry, found);
    }
  }
  return found;
}

describe('openApiV3Paths', () => {
  it('lists every group-version we serve with its server-relative URL', () => {
    expect(openApiV3Paths()).toEqual({
      'api/v1': { serverRelativeURL: '/openapi/v3/api/v1' },
      'apis/apps/v1': { serverRelativeURL: '/openapi/v3/apis/apps/v1' },
      'apis/autoscaling/v2': { serverRelativeURL: '/openapi/v3/apis/autoscaling/v2' },
      'apis/coordination.k8s.io/v1': { serverRelativeURL: '/openapi/v3/apis/coordination.k8s.io/v1' },
    });
  });
});

describe('openApiV3Document', () => {
  it('answers undefined for a group-version we do not serve', () => {
    expect(openApiV3Document('apis/batch/v1')).toBeUndefined();
    expect(openApiV3Document('')).toBeUndefined();
  });

  const kinds = RESOURCE_TYPES.map((type) => {
    const group = type.group === '' ? 'core' : (type.group.split('.')[0] ?? type.group);
    return {
      type,
      groupVersion: type.group === '' ? `api/${type.version}` : `apis/${type.group}/${type.version}`,
      schemaName: `io.k8s.api.${group}.${type.version}.${type.kind}`,
    };
  });

  it.each(kinds)(
    'names $schemaName with its group-version-kind, and its list',
    ({ type, groupVersion, schemaName }) => {
      const schemas = documentFor(groupVersion).components.schemas;
      expect(schemas[schemaName]?.['x-kubernetes-group-version-kind']).toEqual([
        { group: type.group, version: type.version, kind: type.kind },
      ]);
      expect(schemas[`${schemaName}List`]?.['x-kubernetes-group-version-kind']).toEqual([
        { group: type.group, version: type.version, kind: type.listKind },
      ]);
      expect(property(schemaName, 'metadata')).toEqual({
        allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }],
        description: "Standard object's metadata.",
        default: {},
      });
      expect(property(schemaName, 'apiVersion')).toMatchObject({
        type: 'string',
        description: expect.any(String),
      });
    },
  );

  it.each(kinds)(
    'offers PATCH with fieldValidation for $schemaName, so kubectl lets the server validate',
    ({ type, groupVersion }) => {
      const paths = documentFor(groupVersion).paths;
      const itemPath = Object.keys(paths).find((path) => path.endsWith(`/${type.plural}/{name}`));
      const patch = itemPath ? paths[itemPath]?.['patch'] : undefined;
      const parameters = (patch?.['parameters'] ?? []) as { name: string }[];
      expect(parameters.map((parameter) => parameter.name)).toEqual(
        expect.arrayContaining(['fieldValidation', 'fieldManager', 'dryRun', 'force']),
      );
      expect(patch?.['x-kubernetes-group-version-kind']).toEqual({
        group: type.group,
        version: type.version,
        kind: type.kind,
      });
    },
  );

  it.each(GROUP_VERSIONS)('resolves every $ref inside the %s document', (groupVersion) => {
    const document = documentFor(groupVersion);
    const missing = refsIn(document)
      .map((ref) => ref.replace('#/components/schemas/', ''))
      .filter((name) => !document.components.schemas[name]);
    expect(missing).toEqual([]);
  });

  it('publishes the scale and binding subresources with their own kinds', () => {
    const apps = documentFor('apis/apps/v1');
    expect(
      apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']?.['put'],
    ).toBeDefined();
    expect(
      apps.components.schemas['io.k8s.api.autoscaling.v1.Scale']?.['x-kubernetes-group-version-kind'],
    ).toEqual([{ group: 'autoscaling', version: 'v1', kind: 'Scale' }]);
    const core = documentFor('api/v1');
    expect(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding']?.['post']).toBeDefined();
    expect(property('io.k8s.api.core.v1.Binding', 'target')).toEqual({
      $ref: '#/components/schemas/io.k8s.api.core.v1.ObjectReference',
    });
  });

  it.each<[string, string, ExpectedSemantics]>([
    [
      'io.k8s.api.core.v1.PodSpec',
      'containers',
      { listType: 'map', keys: ['name'], mergeKey: 'name', strategy: 'merge' },
    ],
    [
      'io.k8s.api.core.v1.PodSpec',
      'volumes',
      { listType: 'map', keys: ['name'], mergeKey: 'name', strategy: 'merge,retainKeys' },
    ],
    [
      'io.k8s.api.core.v1.Container',
      'ports',
      { listType: 'map', keys: ['containerPort', 'protocol'], mergeKey: 'containerPort', strategy: 'merge' },
    ],
    [
      'io.k8s.api.core.v1.Container',
      'env',
      { listType: 'map', keys: ['name'], mergeKey: 'name', strategy: 'merge' },
    ],
    [
      'io.k8s.api.core.v1.ServiceSpec',
      'ports',
      { listType: 'map', keys: ['port', 'protocol'], mergeKey: 'port', strategy: 'merge' },
    ],
    [
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
      'ownerReferences',
      { listType: 'map', keys: ['uid'], mergeKey: 'uid', strategy: 'merge' },
    ],
    ['io.k8s.api.core.v1.PodSpec', 'tolerations', { listType: 'atomic' }],
  ])('%s.%s carries Kubernetes list semantics', (component, field, expected) => {
    const schemaOfField = property(component, field);
    expect(schemaOfField['type']).toBe('array');
    expect(schemaOfField['x-kubernetes-list-type']).toBe(expected.listType);
    expect(schemaOfField['x-kubernetes-list-map-keys']).toEqual(expected.keys);
    expect(schemaOfField['x-kubernetes-patch-merge-key']).toEqual(expected.mergeKey);
    expect(schemaOfField['x-kubernetes-patch-strategy']).toEqual(expected.strategy);
  });

  it.each([
    ['io.k8s.api.core.v1.ServicePort', 'targetPort'],
    ['io.k8s.api.core.v1.HTTPGetAction', 'port'],
    ['io.k8s.api.core.v1.TCPSocketAction', 'port'],
    ['io.k8s.api.apps.v1.RollingUpdateDeployment', 'maxSurge'],
    ['io.k8s.api.apps.v1.RollingUpdateDeployment', 'maxUnavailable'],
  ])('%s.%s is int-or-string', (component, field) => {
    expect(property(component, field)).toEqual({
      allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' }],
      'x-kubernetes-int-or-string': true,
    });
  });

  it('derives types, enums, ranges and required fields from the validation rules', () => {
    expect(property('io.k8s.api.core.v1.PodSpec', 'restartPolicy')).toEqual({
      type: 'string',
      enum: ['Always', 'OnFailure', 'Never'],
    });
    expect(property('io.k8s.api.core.v1.ContainerPort', 'containerPort')).toEqual({
      type: 'integer',
      format: 'int32',
      minimum: 1,
      maximum: 65535,
    });
    expect(property('io.k8s.api.core.v1.ResourceRequirements', 'limits')).toEqual({
      type: 'object',
      additionalProperties: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' },
    });
    expect(schema('io.k8s.api.core.v1.Container')['required']).toEqual(expect.arrayContaining(['name']));
    expect(schema('io.k8s.api.apps.v1.DeploymentSpec')['required']).toEqual(
      expect.arrayContaining(['selector', 'template']),
    );
    expect(schema('io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec')['required']).toEqual(
      expect.arrayContaining(['scaleTargetRef', 'maxReplicas']),
    );
  });
});

describe('the DTOs the documents are generated from', () => {
  it('each has its Kubernetes component name in the catalog', () => {
    const unnamed = reachableDtos()
      .filter((type) => componentName(type) === undefined)
      .map((type) => type.name);
    expect(unnamed).toEqual([]);
  });

  it('use only rules the generator can describe', () => {
    const understood = new Set(KNOWN_RULES);
    const unknownRules = reachableDtos().flatMap((type) =>
      dtoProperties(type).flatMap((field) =>
        field.rules
          .filter((rule) => !understood.has(rule.name))
          .map((rule) => `${type.name}.${field.name}: ${rule.name}`),
      ),
    );
    expect(unknownRules).toEqual([]);
  });

  it('give every field a type, so no published schema is empty (kubectl explain fails on those)', () => {
    const untyped = (field: Schema | undefined): boolean =>
      field !== undefined && String(field['description']).startsWith('Any value');
    const fields = Object.entries(ALL_SCHEMAS).flatMap(([component, definition]) =>
      Object.entries((definition['properties'] ?? {}) as Record<string, Schema>)
        .filter(([, field]) => untyped(field) || untyped(field['items'] as Schema | undefined))
        .map(([name]) => `${component}.${name}`),
    );
    expect(fields).toEqual([]);
  });

  it('declare every field the list-semantics table speaks of', () => {
    const stale = [...LIST_SEMANTICS.keys()].filter((key) => {
      const separator = key.lastIndexOf('.');
      const properties = ALL_SCHEMAS[key.slice(0, separator)]?.['properties'] as
        Record<string, unknown> | undefined;
      return properties?.[key.slice(separator + 1)] === undefined;
    });
    expect(stale).toEqual([]);
  });
});
