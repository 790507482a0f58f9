// Reads the validation DTOs back as data, so the OpenAPI documents are generated from the very rules
// validateObject applies (one description of every kind, not two). class-validator's metadata gives
// each field's rules; which class a nested field holds is learnt through class-transformer's public
// plainToInstance, by converting a probe value, rather than by reaching into its private storage.
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage } from 'class-validator';

export type DtoClass = new () => object;

export interface DtoRule {
  /** class-validator's rule name: "isString", "isOneOf", "isDns1123Label"... */
  readonly name: string;
  readonly constraints: readonly unknown[];
  /** The rule applies to each item of an array value. */
  readonly each: boolean;
}

export interface DtoProperty {
  readonly name: string;
  readonly required: boolean;
  /** The value is a list (of `nested`, or of scalars checked by rules with `each`). */
  readonly array: boolean;
  readonly nested?: DtoClass;
  readonly rules: readonly DtoRule[];
}

const propertiesCache = new Map<DtoClass, readonly DtoProperty[]>();

function nestedClass(owner: DtoClass, property: string, array: boolean): DtoClass | undefined {
  const probe = plainToInstance(owner, { [property]: array ? [{}] : {} }) as Record<string, unknown>;
  const converted = probe[property];
  const sample: unknown = array && Array.isArray(converted) ? converted[0] : converted;
  if (typeof sample !== 'object' || sample === null) return undefined;
  const constructor = (sample as { constructor?: unknown }).constructor;
  return typeof constructor === 'function' && constructor !== Object ? (constructor as DtoClass) : undefined;
}

/** The declared fields of a DTO class (its parents' included), in declaration order. */
export function dtoProperties(type: DtoClass): readonly DtoProperty[] {
  const cached = propertiesCache.get(type);
  if (cached) return cached;
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
  const byName = new Map<string, typeof metadatas>();
  for (const metadata of metadatas) {
    byName.set(metadata.propertyName, [...(byName.get(metadata.propertyName) ?? []), metadata]);
  }
  const properties: DtoProperty[] = [];
  for (const [name, list] of byName) {
    const rules: DtoRule[] = list
      .filter((metadata) => metadata.type === 'customValidation' && metadata.name !== undefined)
      .map((metadata) => ({
        name: metadata.name ?? '',
        constraints: (metadata.constraints ?? []) as unknown[],
        each: metadata.each ?? false,
      }));
    const nestedValidation = list.find((metadata) => metadata.type === 'nestedValidation');
    const array = rules.some((rule) => rule.name === 'isArray') || (nestedValidation?.each ?? false);
    properties.push({
      name,
      required: !list.some((metadata) => metadata.type === 'conditionalValidation'),
      array,
      nested: nestedValidation ? nestedClass(type, name, array) : undefined,
      rules,
    });
  }
  propertiesCache.set(type, properties);
  return properties;
}
