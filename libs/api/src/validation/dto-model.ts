// The DTO classes are the one description of every kind: class-validator checks objects against them,
// and the same metadata, read back here, yields the declared fields (for unknown-field detection and
// pruning) and the OpenAPI schemas. Decorators below add what class-validator cannot express: which
// class a nested field holds, the OpenAPI component name of a class, and Kubernetes' list extensions.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ValidateNested, getMetadataStorage } from 'class-validator';

export type DtoClass = new () => object;

/** An OpenAPI schema fragment (JSON); kept loose because extensions are free-form by design. */
export type SchemaFragment = Record<string, unknown>;

interface PropertyExtras {
  nested?: () => DtoClass;
  /** The nested field holds an array of the class, not one instance. */
  nestedArray?: boolean;
  schema?: SchemaFragment;
}

export interface PropertyModel {
  readonly name: string;
  readonly required: boolean;
  readonly nested?: DtoClass;
  readonly nestedArray: boolean;
  /** class-validator rules on the property: name, constraints, and whether they apply to each item. */
  readonly rules: readonly { name: string; constraints: readonly unknown[]; each: boolean }[];
  readonly schema: SchemaFragment;
}

const definitionNames = new Map<DtoClass, string>();
const propertyExtras = new Map<DtoClass, Map<string, PropertyExtras>>();
const modelCache = new Map<DtoClass, readonly PropertyModel[]>();

function extrasFor(target: object, propertyName: string | symbol): PropertyExtras {
  const owner = target.constructor as DtoClass;
  let byName = propertyExtras.get(owner);
  if (!byName) {
    byName = new Map();
    propertyExtras.set(owner, byName);
  }
  const key = String(propertyName);
  let extras = byName.get(key);
  if (!extras) {
    extras = {};
    byName.set(key, extras);
  }
  return extras;
}

/** Names the class's OpenAPI component as Kubernetes does ("io.k8s.api.core.v1.PodSpec"). */
export function Definition(name: string): ClassDecorator {
  return (target) => {
    definitionNames.set(target as unknown as DtoClass, name);
  };
}

/** A field holding one instance (or, with array, a list) of another DTO class. */
export function Nested(type: () => DtoClass, options: { array?: boolean } = {}): PropertyDecorator {
  return (target, propertyName) => {
    ValidateNested({ each: options.array ?? false })(target, propertyName);
    Type(type)(target, propertyName);
    const extras = extrasFor(target, propertyName);
    extras.nested = type;
    extras.nestedArray = options.array ?? false;
  };
}

/** Extra OpenAPI keywords for a field: extensions, formats, descriptions. */
export function SchemaExtras(fragment: SchemaFragment): PropertyDecorator {
  return (target, propertyName) => {
    const extras = extrasFor(target, propertyName);
    extras.schema = { ...extras.schema, ...fragment };
  };
}

/** A list merged by key, as Kubernetes' strategic merge patch and server-side apply treat it. */
export function ListMap(...keys: [string, ...string[]]): PropertyDecorator {
  return SchemaExtras({
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': keys,
    'x-kubernetes-patch-merge-key': keys[0],
    'x-kubernetes-patch-strategy': 'merge',
  });
}

export function definitionName(type: DtoClass): string {
  const name = definitionNames.get(type);
  if (!name) throw new Error(`${type.name} has no @Definition: every DTO class needs its OpenAPI component name`);
  return name;
}

function inheritedExtras(type: DtoClass, propertyName: string): PropertyExtras {
  // Subclasses see their parents' fields (KubeObjectDto.metadata), nearest declaration first.
  for (let current: unknown = type; typeof current === 'function' && current !== Function.prototype; ) {
    const extras = propertyExtras.get(current as DtoClass)?.get(propertyName);
    if (extras) return extras;
    current = Object.getPrototypeOf(current);
  }
  return {};
}

/** The declared fields of a DTO class, in declaration order, with their rules and nesting. */
export function describeDto(type: DtoClass): readonly PropertyModel[] {
  const cached = modelCache.get(type);
  if (cached) return cached;
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
  const byName = new Map<string, typeof metadatas>();
  for (const metadata of metadatas) {
    const list = byName.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byName.set(metadata.propertyName, list);
  }
  const models: PropertyModel[] = [];
  for (const [name, list] of byName) {
    const extras = inheritedExtras(type, name);
    const rules = list
      .filter((metadata) => metadata.type === 'customValidation' || metadata.type === 'isDefined')
      .map((metadata) => ({
        name: metadata.type === 'isDefined' ? 'isDefined' : (metadata.name ?? metadata.constraintCls?.name ?? ''),
        constraints: (metadata.constraints ?? []) as unknown[],
        each: metadata.each ?? false,
      }));
    models.push({
      name,
      required: !list.some((metadata) => metadata.type === 'conditionalValidation'),
      nested: extras.nested?.(),
      nestedArray: extras.nestedArray ?? false,
      rules,
      schema: extras.schema ?? {},
    });
  }
  modelCache.set(type, models);
  return models;
}
