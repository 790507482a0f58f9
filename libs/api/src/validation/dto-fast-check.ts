// A fast yes/no answer to "would class-validator find nothing wrong with this object as that DTO?",
// from per-class plans compiled once out of class-validator's own metadata and run with its own
// constraint implementations, on the plain object itself. class-transformer's plainToInstance
// (reflecting over every property of every nested object) and class-validator (re-filtering every
// registered class's metadata for each nested object, a ValidationError per property even when all
// is well) were most of an apiserver create's validation time. The plan only ever says "valid" when
// class-validator, run on plainToInstance's result with the options validateObject uses (whitelist
// + forbidNonWhitelisted, no groups, no skipping), would return no errors; anything it does not
// model (groups, `always`, validateIf, async or promise rules, unknown metadata types) makes it
// answer `undefined`, and the caller runs both libraries for the exact diagnosis.
//
// Nested classes come from class-transformer's @Type, read by transforming a probe ({} and [{}])
// once per property: the DTOs use constant @Type(() => X) only, which the probe sees exactly.
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, IS_OPTIONAL, ValidationTypes, type ValidationArguments } from 'class-validator';

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
  /** Set for ValidateNested: the class plainToInstance gives objects here (Object without @Type). */
  readonly nested: DtoClass | null | undefined;
  /** Carries IsOptional: nothing about it is checked while it is absent (undefined or null). */
  readonly optional: boolean;
}

interface ClassPlan {
  /** The DTO's name as class-validator passes it to rules (read once: `name` is a getter call). */
  readonly targetName: string;
  /** Every property with a rule; a key not here is unknown (whitelist + forbidNonWhitelisted). */
  readonly byName: ReadonlyMap<string, PropertyPlan>;
  /**
   * The properties checked even when absent (no IsOptional). The optional ones are only visited
   * through the object's own keys: a DTO has dozens of optional fields and an object sets a few.
   */
  readonly always: readonly PropertyPlan[];
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
      optional: group.some(
        (metadata) =>
          metadata.type === ValidationTypes.CONDITIONAL_VALIDATION && metadata.name === IS_OPTIONAL,
      ),
      conditions: group
        .filter((metadata) => metadata.type === ValidationTypes.CONDITIONAL_VALIDATION)
        .map((metadata) => metadata.constraints[0] as (object: object, value: unknown) => boolean),
      checks,
      nested: group.some((metadata) => metadata.type === ValidationTypes.NESTED_VALIDATION)
        ? nestedClassOf(target, name)
        : undefined,
    });
    if (properties.at(-1)?.nested === null) return null;
  }
  return {
    targetName: target.name,
    byName: new Map(properties.map((property) => [property.name, property])),
    always: properties.filter((property) => !property.optional),
  };
}

/**
 * The class plainToInstance turns an object (and each object of a list) at `property` into; null
 * when the two probes disagree, which a value-dependent @Type would do.
 */
function nestedClassOf(target: DtoClass, property: string): DtoClass | null {
  const probe = (value: unknown): unknown =>
    (plainToInstance(target as new () => object, { [property]: value }) as Record<string, unknown>)[property];
  const single = probe({});
  const listed = probe([{}]);
  const first = Array.isArray(listed) ? (listed[0] as unknown) : undefined;
  const singleClass = single instanceof Object ? (single.constructor as DtoClass) : null;
  const listClass = first instanceof Object ? (first.constructor as DtoClass) : null;
  return singleClass !== null && singleClass === listClass ? singleClass : null;
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

const SHARED_ARGS: ValidationArguments = {
  targetName: '',
  property: '',
  object: {},
  value: undefined,
  constraints: [],
};

/** One custom rule on one value, `each` spreading it over a collection as class-validator does. */
function passes(
  check: ConstraintCheck,
  object: object,
  value: unknown,
  targetName: string,
): boolean | undefined {
  // The arguments class-validator would pass, with the DTO's name as it would see it on an instance,
  // in one object for every rule: a rule is called synchronously and its answer used at once (an
  // asynchronous one defers to class-validator, which calls it again with its own), so no rule can
  // see another's, and a create checks some hundred rules without an object of garbage for each.
  const args = SHARED_ARGS;
  args.targetName = targetName;
  args.property = check.metadata.propertyName;
  args.object = object;
  args.value = value;
  args.constraints = check.metadata.constraints;
  if (!(check.metadata.each && isCollection(value))) return verdict(check.validate(value, args));
  for (const item of toArray(value)) {
    const result = verdict(check.validate(item, args));
    if (result !== true) return result;
  }
  return true;
}

/** A rule's answer; anything but a boolean (a promise) is left to class-validator. */
function verdict(result: unknown): boolean | undefined {
  return typeof result === 'boolean' ? result : undefined;
}

function toArray(value: unknown[] | Set<unknown> | Map<unknown, unknown>): Iterable<unknown> {
  return value instanceof Map ? value.values() : value;
}

/**
 * ValidateNested on one plain value: lists item by item (plainToInstance maps lists within lists
 * with the same @Type, and class-validator walks them alike), objects by the class @Type gives them.
 */
function nestedPasses(value: unknown, target: DtoClass): boolean | undefined {
  if (value === undefined) return true;
  if (Array.isArray(value)) {
    for (const item of value) {
      const result = nestedPasses(item, target);
      if (result !== true) return result;
    }
    return true;
  }
  if (typeof value === 'object' && value !== null) return objectPasses(value, target);
  return false;
}

/** Whether every IsOptional-style condition lets the property be validated (a loop: no closure per call). */
function conditionsHold(property: PropertyPlan, object: object, value: unknown): boolean {
  for (const condition of property.conditions) if (!condition(object, value)) return false;
  return true;
}

function objectPasses(object: object, target: DtoClass): boolean | undefined {
  const plan = planFor(target);
  if (plan === null) return undefined;
  // whitelist + forbidNonWhitelisted: a property without any rule is an error. (plainToInstance
  // drops "__proto__" and "constructor" keys; here they are unknown, so the libraries decide.)
  // The answer is a yes or "run the libraries", so the order properties are visited in is free.
  const fields = object as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    const property = plan.byName.get(key);
    if (property === undefined) return false;
    if (!property.optional) continue;
    const result = propertyPasses(property, object, fields[key], plan.targetName);
    if (result !== true) return result;
  }
  for (const property of plan.always) {
    const result = propertyPasses(property, object, fields[property.name], plan.targetName);
    if (result !== true) return result;
  }
  return true;
}

function propertyPasses(
  property: PropertyPlan,
  object: object,
  value: unknown,
  targetName: string,
): boolean | undefined {
  if (property.conditions.length > 0 && !conditionsHold(property, object, value)) return true;
  for (const check of property.checks) {
    const result = passes(check, object, value, targetName);
    if (result !== true) return result;
  }
  return property.nested ? nestedPasses(value, property.nested) : true;
}

/**
 * True when class-validator would report no error for plainToInstance(dto, object); false or
 * undefined when it would, or might: then run the libraries for the errors.
 */
export function passesDtoChecks(dto: DtoClass, object: object): boolean | undefined {
  return objectPasses(object, dto);
}
