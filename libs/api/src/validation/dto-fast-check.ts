// A fast yes/no answer to "would class-validator find nothing wrong with this DTO instance?", from
// per-class plans compiled once out of class-validator's own metadata and run with its own
// constraint implementations. class-validator itself re-filters every registered class's metadata
// for each nested object it visits and builds a ValidationError per property even when all is well;
// that was most of an apiserver create's validation time. The plan only ever says "valid" when
// class-validator, run with the options validateObject uses (whitelist + forbidNonWhitelisted,
// no groups, no skipping), would return no errors; anything it does not model (groups, `always`,
// validateIf, async or promise rules, unknown metadata types) makes it answer `undefined`, and the
// caller runs class-validator for the full, exactly worded diagnosis.
import { getMetadataStorage, ValidationTypes, type ValidationArguments } from 'class-validator';

/** A class as class-validator keys its metadata: by constructor. */
type DtoClass = abstract new (...args: never[]) => unknown;

type Metadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

interface ConstraintCheck {
  readonly metadata: Metadata;
  readonly validate: (value: unknown, args: ValidationArguments) => unknown;
}

interface PropertyPlan {
  readonly name: string;
  /** IsOptional and friends: every one must hold for the property to be validated at all. */
  readonly conditions: ReadonlyArray<(object: object, value: unknown) => boolean>;
  /** IsDefined rules, then the other custom rules, as class-validator orders them. */
  readonly checks: readonly ConstraintCheck[];
  readonly nested: boolean;
}

interface ClassPlan {
  readonly allowed: ReadonlySet<string>;
  readonly properties: readonly PropertyPlan[];
}

const MODELLED_TYPES = new Set<string>([
  ValidationTypes.CUSTOM_VALIDATION,
  ValidationTypes.NESTED_VALIDATION,
  ValidationTypes.CONDITIONAL_VALIDATION,
  ValidationTypes.IS_DEFINED,
]);

/** `null` marks a class the plan cannot model: validate it with class-validator. */
const plans = new Map<DtoClass, ClassPlan | null>();

function modelled(metadata: Metadata): boolean {
  return (
    MODELLED_TYPES.has(metadata.type) &&
    metadata.always === undefined &&
    (metadata.groups === undefined || metadata.groups.length === 0) &&
    metadata.validateIf === undefined &&
    metadata.context === undefined
  );
}

function compile(target: DtoClass): ClassPlan | null {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(target, '', false, false);
  if (!metadatas.every(modelled)) return null;
  const byProperty = storage.groupByPropertyName(metadatas);
  const properties: PropertyPlan[] = [];
  for (const [name, group] of Object.entries(byProperty)) {
    const checks: ConstraintCheck[] = [];
    const ordered = [
      ...group.filter((metadata) => metadata.type === ValidationTypes.IS_DEFINED),
      ...group.filter((metadata) => metadata.type === ValidationTypes.CUSTOM_VALIDATION),
    ];
    for (const metadata of ordered) {
      for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
        if (constraint.async) return null;
        const instance = constraint.instance;
        checks.push({ metadata, validate: (value, args) => instance.validate(value, args) });
      }
    }
    properties.push({
      name,
      conditions: group
        .filter((metadata) => metadata.type === ValidationTypes.CONDITIONAL_VALIDATION)
        .map((metadata) => metadata.constraints[0] as (object: object, value: unknown) => boolean),
      checks,
      nested: group.some((metadata) => metadata.type === ValidationTypes.NESTED_VALIDATION),
    });
  }
  return { allowed: new Set(Object.keys(byProperty)), properties };
}

function planFor(target: DtoClass): ClassPlan | null {
  let plan = plans.get(target);
  if (plan === undefined) {
    plan = compile(target);
    plans.set(target, plan);
  }
  return plan;
}

function isCollection(value: unknown): value is unknown[] | Set<unknown> | Map<unknown, unknown> {
  return Array.isArray(value) || value instanceof Set || value instanceof Map;
}

/** One custom rule on one value, `each` spreading it over a collection as class-validator does. */
function passes(check: ConstraintCheck, object: object, value: unknown): boolean | undefined {
  const args: ValidationArguments = {
    targetName: object.constructor ? object.constructor.name : '',
    property: check.metadata.propertyName,
    object,
    value,
    constraints: check.metadata.constraints,
  };
  const values = check.metadata.each && isCollection(value) ? [...toArray(value)] : [value];
  for (const item of values) {
    const result = check.validate(item, args);
    if (typeof result !== 'boolean') return undefined;
    if (!result) return false;
  }
  return true;
}

function toArray(value: unknown[] | Set<unknown> | Map<unknown, unknown>): Iterable<unknown> {
  return value instanceof Map ? value.values() : value;
}

/** ValidateNested on one value: collections item by item, objects by their own class. */
function nestedPasses(value: unknown): boolean | undefined {
  if (value === undefined) return true;
  if (isCollection(value)) {
    for (const item of toArray(value)) {
      const result = nestedPasses(item);
      if (result !== true) return result;
    }
    return true;
  }
  if (value instanceof Object) return objectPasses(value);
  return false;
}

function objectPasses(object: object): boolean | undefined {
  const plan = planFor(object.constructor as DtoClass);
  if (plan === null) return undefined;
  // whitelist + forbidNonWhitelisted: a property without any rule is an error.
  for (const key of Object.keys(object)) if (!plan.allowed.has(key)) return false;
  for (const property of plan.properties) {
    const value = (object as Record<string, unknown>)[property.name];
    if (!property.conditions.every((condition) => condition(object, value))) continue;
    for (const check of property.checks) {
      const result = passes(check, object, value);
      if (result !== true) return result;
    }
    if (property.nested) {
      const result = nestedPasses(value);
      if (result !== true) return result;
    }
  }
  return true;
}

/**
 * True when class-validator would report no error for `instance` (a DTO built by plainToInstance);
 * false or undefined when it would, or might: then run class-validator for the errors.
 */
export function passesDtoChecks(instance: object): boolean | undefined {
  return objectPasses(instance);
}
