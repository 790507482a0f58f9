// Filter: cordoned nodes (spec.unschedulable) and nodes that are not Ready take no new pods, unless
// the pod tolerates the taint Kubernetes puts on such nodes.
import type { FilterPlugin } from '../framework/plugin.types';
import { SUCCESS, unresolvable } from '../framework/status';
import { tolerates } from './taint-toleration.plugin';

export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter(pod, { node }) {
    if (
      node.unschedulable &&
      !tolerates(pod.tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })
    ) {
      return unresolvable(this.name, 'node(s) were unschedulable');
    }
    if (
      !node.ready &&
      !tolerates(pod.tolerations, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' })
    ) {
      return unresolvable(this.name, 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }');
    }
    return SUCCESS;
  },
};
