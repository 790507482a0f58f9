// Label selectors in both of Kubernetes' forms: the query-string syntax (`app=web,tier in (a,b),!legacy`)
// and the structured LabelSelector (matchLabels + matchExpressions) that Deployments and Services carry.
// Both compile to the same requirement list, so matching has one implementation.
import { isQualifiedName, isValidLabelValue } from '../names';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelRequirement {
  key: string;
  operator: SelectorOperator;
  values: readonly string[];
}

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

/** A compiled selector; the empty selector matches everything. */
export class LabelMatcher {
  constructor(readonly requirements: readonly LabelRequirement[]) {}

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(labels: Readonly<Record<string, string>> | undefined): boolean {
    const set = labels ?? {};
    return this.requirements.every((requirement) => requirementMatches(requirement, set));
  }

  toString(): string {
    return this.requirements.map(formatRequirement).join(',');
  }
}

function requirementMatches(
  requirement: LabelRequirement,
  labels: Readonly<Record<string, string>>,
): boolean {
  const present = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  switch (requirement.operator) {
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    case 'In':
      return present && requirement.values.includes(labels[requirement.key] ?? '');
    case 'NotIn':
      // Kubernetes: `notin` also matches objects that lack the key.
      return !present || !requirement.values.includes(labels[requirement.key] ?? '');
  }
}

function formatRequirement(requirement: LabelRequirement): string {
  switch (requirement.operator) {
    case 'Exists':
      return requirement.key;
    case 'DoesNotExist':
      return `!${requirement.key}`;
    case 'In':
      return requirement.values.length === 1
        ? `${requirement.key}=${requirement.values[0] ?? ''}`
        : `${requirement.key} in (${requirement.values.join(',')})`;
    case 'NotIn':
      return requirement.values.length === 1
        ? `${requirement.key}!=${requirement.values[0] ?? ''}`
        : `${requirement.key} notin (${requirement.values.join(',')})`;
  }
}

function checkKey(key: string): void {
  const problems = isQualifiedName(key);
  if (problems.length > 0) throw new SelectorError(`invalid label key "${key}": ${problems.join('; ')}`);
}

function checkValue(key: string, value: string): void {
  const problems = isValidLabelValue(value);
  if (problems.length > 0) {
    throw new SelectorError(`invalid label value "${value}" for key "${key}": ${problems.join('; ')}`);
  }
}

/**
 * Parses the query-string form, e.g. `app=web,env!=prod,tier in (front,back),!canary`.
 * Splits on commas outside parentheses first, then reads each term.
 */
export function parseLabelSelector(text: string): LabelMatcher {
  const terms = splitTopLevel(text.trim());
  const requirements = terms.map(parseTerm);
  return new LabelMatcher(requirements);
}

function splitTopLevel(text: string): string[] {
  if (text === '') return [];
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '(') depth++;
    else if (char === ')') {
      depth--;
      if (depth < 0) throw new SelectorError(`unexpected ")" at position ${index} in selector "${text}"`);
    } else if (char === ',' && depth === 0) {
      terms.push(text.slice(start, index));
      start = index + 1;
    }
  }
  if (depth !== 0) throw new SelectorError(`unbalanced "(" in selector "${text}"`);
  terms.push(text.slice(start));
  return terms.map((term) => term.trim());
}

const SET_TERM = /^([^\s!=()]+)\s+(in|notin)\s*\(([^()]*)\)$/;
const EQUALITY_TERM = /^([^\s!=()]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/;

function parseTerm(term: string): LabelRequirement {
  if (term === '')
    throw new SelectorError('empty term in label selector (look for a doubled or trailing comma)');
  const set = SET_TERM.exec(term);
  if (set) {
    const [, key = '', op, list = ''] = set;
    checkKey(key);
    const values = list
      .split(',')
      .map((value) => value.trim())
      .filter((value, index, all) => value !== '' || all.length > 1);
    if (values.length === 0) throw new SelectorError(`"${key} ${op} ()" needs at least one value`);
    values.forEach((value) => checkValue(key, value));
    return { key, operator: op === 'in' ? 'In' : 'NotIn', values };
  }
  const equality = EQUALITY_TERM.exec(term);
  if (equality) {
    const [, key = '', op, value = ''] = equality;
    checkKey(key);
    checkValue(key, value);
    return { key, operator: op === '!=' ? 'NotIn' : 'In', values: [value] };
  }
  if (term.startsWith('!')) {
    const key = term.slice(1).trim();
    checkKey(key);
    return { key, operator: 'DoesNotExist', values: [] };
  }
  if (!/[\s=!()]/.test(term)) {
    checkKey(term);
    return { key: term, operator: 'Exists', values: [] };
  }
  throw new SelectorError(
    `unable to parse requirement "${term}": expected KEY, !KEY, KEY=VALUE, KEY!=VALUE, KEY in (A,B) or KEY notin (A,B)`,
  );
}

/** Compiles a structured LabelSelector; Kubernetes: a null selector matches nothing, {} matches everything. */
export function labelSelectorMatcher(selector: LabelSelector): LabelMatcher {
  const requirements: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    checkKey(key);
    checkValue(key, value);
    requirements.push({ key, operator: 'In', values: [value] });
  }
  for (const expression of selector.matchExpressions ?? []) {
    checkKey(expression.key);
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) {
          throw new SelectorError(
            `${expression.operator} requires at least one value for key "${expression.key}"`,
          );
        }
        values.forEach((value) => checkValue(expression.key, value));
        requirements.push({ key: expression.key, operator: expression.operator, values });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) {
          throw new SelectorError(`${expression.operator} takes no values (key "${expression.key}")`);
        }
        requirements.push({ key: expression.key, operator: expression.operator, values: [] });
        break;
      default:
        throw new SelectorError(
          `"${expression.operator}" is not a valid label selector operator: use In, NotIn, Exists or DoesNotExist`,
        );
    }
  }
  return new LabelMatcher(requirements);
}
