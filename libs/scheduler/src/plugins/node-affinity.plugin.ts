// Filter: nodeSelector and required node affinity (In, NotIn, Exists, DoesNotExist, Gt, Lt).
import type { FilterPlugin } from '../framework/plugin.types';
import type { NodeSelectorRequirement } from '../framework/scheduling-views';
import { SUCCESS, unresolvable } from '../framework/status';

export function requirementMatches(
  requirement: NodeSelectorRequirement,
  labels: Readonly<Record<string, string>>,
): boolean {
  const present = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = labels[requirement.key];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return present && values.includes(value ?? '');
    case 'NotIn':
      return !present || !values.includes(value ?? '');
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    case 'Gt':
    case 'Lt': {
      const actual = Number(value);
      const bound = Number(values[0]);
      if (!present || !Number.isInteger(actual) || !Number.isInteger(bound)) return false;
      return requirement.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

export const nodeAffinity: FilterPlugin = {
  name: 'NodeAffinity',
  filter(pod, { node }) {
    const selectorMatches = Object.entries(pod.nodeSelector).every(
      ([key, value]) => node.labels[key] === value,
    );
    // Terms are ORed; an empty list of terms matches nothing, as in Kubernetes.
    const affinityMatches =
      pod.requiredNodeAffinity === undefined ||
      pod.requiredNodeAffinity.some((term) =>
        (term.matchExpressions ?? []).every((requirement) => requirementMatches(requirement, node.labels)),
      );
    return selectorMatches && affinityMatches
      ? SUCCESS
      : unresolvable(this.name, "node(s) didn't match Pod's node affinity/selector");
  },
};
