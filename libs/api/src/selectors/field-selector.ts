// Field selectors (`metadata.name=web,status.phase!=Running`): only equality on a fixed set of fields per
// kind, as Kubernetes allows, so a typo is a clear 400 rather than a selector that silently matches nothing.
import { SelectorError } from './label-selector';

export interface FieldRequirement {
  field: string;
  equals: boolean;
  value: string;
}

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];

/** Fields each kind can be selected by, beyond metadata.name and metadata.namespace. */
const SELECTABLE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Event: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  Node: ['spec.unschedulable'],
  Secret: ['type'],
  ReplicaSet: ['status.replicas'],
  Namespace: ['status.phase'],
};

export class FieldMatcher {
  constructor(readonly requirements: readonly FieldRequirement[]) {}

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(object: unknown): boolean {
    return this.requirements.every((requirement) => {
      const actual = fieldValue(object, requirement.field);
      return (actual === requirement.value) === requirement.equals;
    });
  }
}

/** The string form of a selectable field: absent fields read as "", booleans as "true"/"false". */
export function fieldValue(object: unknown, field: string): string {
  let current: unknown = object;
  for (const part of field.split('.')) {
    if (typeof current !== 'object' || current === null) return '';
    current = (current as Record<string, unknown>)[part];
  }
  if (field === 'source' && typeof current === 'object' && current !== null) {
    // Event.source is an object; Kubernetes selects on source.component.
    const component = (current as Record<string, unknown>)['component'];
    return typeof component === 'string' ? component : '';
  }
  if (typeof current === 'string') return current;
  if (typeof current === 'number' || typeof current === 'boolean') return String(current);
  return '';
}

export function parseFieldSelector(text: string, kind: string): FieldMatcher {
  const trimmed = text.trim();
  if (trimmed === '') return new FieldMatcher([]);
  const allowed = [...COMMON_FIELDS, ...(SELECTABLE_FIELDS[kind] ?? [])];
  const requirements = trimmed.split(',').map((term): FieldRequirement => {
    const match = /^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*([^,]*?)\s*$/.exec(term);
    if (!match) {
      throw new SelectorError(
        `invalid field selector term "${term}": expected FIELD=VALUE, FIELD==VALUE or FIELD!=VALUE`,
      );
    }
    const [, field = '', op, value = ''] = match;
    if (!allowed.includes(field)) {
      throw new SelectorError(
        `field label not supported: ${field} (${kind} can be selected by ${allowed.join(', ')})`,
      );
    }
    return { field, equals: op !== '!=', value };
  });
  return new FieldMatcher(requirements);
}
