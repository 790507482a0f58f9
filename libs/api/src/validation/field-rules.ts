// class-validator decorators for Kubernetes' field rules, with Kubernetes' own messages. Each rule's
// message starts with a reason tag ("Invalid:", "Unsupported:") that field-errors.ts turns into the
// StatusCause reason, so the wording users see is exactly Kubernetes'.
import { ValidateBy, buildMessage, type ValidationOptions } from 'class-validator';
import {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
} from '../names';
import { tryParseQuantity } from '../quantity';

function problemsRule(
  name: string,
  check: (value: unknown) => string[],
  options?: ValidationOptions,
): PropertyDecorator {
  const problems = new WeakMap<object, string[]>();
  return ValidateBy(
    {
      name,
      validator: {
        validate: (value, args) => {
          const found = check(value);
          // Only a failure's problems are ever read (by defaultMessage, right after it); a pass
          // updates an entry that exists and adds none, sparing the WeakMap a write per field.
          if (args?.object && (found.length > 0 || problems.has(args.object)))
            problems.set(args.object, found);
          return found.length === 0;
        },
        defaultMessage: buildMessage(
          (_each, args) =>
            `Invalid:${(args?.object && problems.get(args.object)?.join('; ')) ?? 'invalid value'}`,
          options,
        ),
      },
    },
    options,
  );
}

const stringRule = (rule: (value: string) => string[]) => (value: unknown) =>
  typeof value === 'string' ? rule(value) : ['must be a string'];

export const IsDns1123Label = (options?: ValidationOptions): PropertyDecorator =>
  problemsRule('isDns1123Label', stringRule(isDns1123Label), options);
export const IsDns1123Subdomain = (options?: ValidationOptions): PropertyDecorator =>
  problemsRule('isDns1123Subdomain', stringRule(isDns1123Subdomain), options);
export const IsDns1035Label = (options?: ValidationOptions): PropertyDecorator =>
  problemsRule('isDns1035Label', stringRule(isDns1035Label), options);

/** IANA_SVC_NAME: the name of a port (at most 15 characters, letters, digits and '-', one letter at least). */
export const IsPortName = (options?: ValidationOptions): PropertyDecorator =>
  problemsRule(
    'isPortName',
    stringRule((value) => {
      const problems: string[] = [];
      if (value.length > 15) problems.push('must be no more than 15 characters');
      if (!/^[-a-z0-9]+$/.test(value))
        problems.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
      if (value.includes('--')) problems.push('must not contain consecutive hyphens');
      if (!/[a-z]/.test(value)) problems.push('must contain at least one letter (a-z)');
      if (value.startsWith('-') || value.endsWith('-')) problems.push('must not begin or end with a hyphen');
      return problems;
    }),
    options,
  );

/** A map of label keys to values, each checked with Kubernetes' label rules. */
export const IsLabelMap = (options?: ValidationOptions): PropertyDecorator =>
  problemsRule(
    'isLabelMap',
    (value) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return ['must be a map of strings'];
      const problems: string[] = [];
      for (const [key, label] of Object.entries(value)) {
        problems.push(...isQualifiedName(key).map((problem) => `"${key}": ${problem}`));
        if (typeof label !== 'string') problems.push(`"${key}": the value must be a string`);
        else problems.push(...isValidLabelValue(label).map((problem) => `"${label}": ${problem}`));
      }
      return problems;
    },
    options,
  );

/** A map whose values are all strings (annotations, ConfigMap data, nodeSelector). */
export const IsStringMap = (options?: ValidationOptions): PropertyDecorator =>
  problemsRule(
    'isStringMap',
    (value) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return ['must be a map of strings'];
      return Object.entries(value)
        .filter(([, entry]) => typeof entry !== 'string')
        .map(([key]) => `"${key}": the value must be a string`);
    },
    options,
  );

/** A resource quantity ("100m", "1Gi", "1e3", ".5" or a plain number), never negative. */
export const IsQuantity = (options?: ValidationOptions): PropertyDecorator =>
  problemsRule(
    'isQuantity',
    (value) => {
      const quantity = tryParseQuantity(typeof value === 'number' ? String(value) : value);
      if (!quantity)
        return [
          "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        ];
      return quantity.isNegative() ? ['must be greater than or equal to 0'] : [];
    },
    options,
  );

/** A map of resource names to quantities (requests, limits, capacity). */
export const IsResourceList = (options?: ValidationOptions): PropertyDecorator =>
  problemsRule(
    'isResourceList',
    (value) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return ['must be a map of quantities'];
      const problems: string[] = [];
      for (const [name, raw] of Object.entries(value)) {
        const quantity = tryParseQuantity(typeof raw === 'number' ? String(raw) : raw);
        if (!quantity)
          problems.push(`${name}: "${String(raw)}" is not a valid quantity (e.g. 100m, 1Gi, 1e3, .5)`);
        else if (quantity.isNegative()) problems.push(`${name}: must be greater than or equal to 0`);
      }
      return problems;
    },
    options,
  );

/** An integer, or a percentage string such as "25%" (maxSurge, maxUnavailable, targetPort names aside). */
export const IsIntOrPercent = (options?: ValidationOptions): PropertyDecorator =>
  problemsRule(
    'isIntOrPercent',
    (value) => {
      if (typeof value === 'number')
        return Number.isInteger(value) && value >= 0 ? [] : ['must be a non-negative integer'];
      if (typeof value === 'string' && /^[0-9]+%$/.test(value)) return [];
      return [
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%')",
      ];
    },
    options,
  );

/** A port number, or the name of a container port. */
export const IsPortNumberOrName = (options?: ValidationOptions): PropertyDecorator =>
  problemsRule(
    'isPortNumberOrName',
    (value) => {
      if (typeof value === 'number')
        return Number.isInteger(value) && value >= 1 && value <= 65535
          ? []
          : ['must be between 1 and 65535, inclusive'];
      if (typeof value === 'string' && value !== '') return [];
      return ['must be a port number or the name of a container port'];
    },
    options,
  );

/** One of a fixed set, reported as Kubernetes reports unsupported values. */
export const IsOneOf = (values: readonly string[], options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isOneOf',
      constraints: [values],
      validator: {
        validate: (value) => typeof value === 'string' && values.includes(value),
        defaultMessage: buildMessage(
          () => `Unsupported:supported values: ${values.map((value) => `"${value}"`).join(', ')}`,
          options,
        ),
      },
    },
    options,
  );
