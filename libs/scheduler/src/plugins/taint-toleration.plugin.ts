// Filter: a node's NoSchedule and NoExecute taints keep out pods that do not tolerate them.
import type { FilterPlugin } from '../framework/plugin.types';
import type { Taint, Toleration } from '../framework/scheduling-views';
import { SUCCESS, unresolvable } from '../framework/status';

/** Kubernetes' ToleratesTaint: empty key with Exists matches every taint; empty effect every effect. */
export function toleratesTaint(
  toleration: Toleration,
  taint: Pick<Taint, 'key' | 'effect'> & { value?: string },
): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  const operator = toleration.operator ?? 'Equal';
  if (operator === 'Exists') return true;
  return operator === 'Equal' && (toleration.value ?? '') === (taint.value ?? '');
}

export function tolerates(
  tolerations: readonly Toleration[],
  taint: Pick<Taint, 'key' | 'effect'> & { value?: string },
): boolean {
  return tolerations.some((toleration) => toleratesTaint(toleration, taint));
}

export const taintToleration: FilterPlugin = {
  name: 'TaintToleration',
  filter(pod, { node }) {
    const untolerated = node.taints.find(
      (taint) =>
        (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerates(pod.tolerations, taint),
    );
    if (!untolerated) return SUCCESS;
    return unresolvable(
      this.name,
      `node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`,
    );
  },
};
