// Filter: the pod's requests fit in what the node's cgroup allows, minus what is already promised
// to pods bound there. The kernel enforces the same numbers on the node (DESIGN.md §5).
import type { FilterPlugin } from '../framework/plugin.types';
import { SUCCESS, unschedulable } from '../framework/status';

export const nodeResourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  filter(pod, { node, requested }) {
    const reasons: string[] = [];
    if (requested.pods + 1n > node.allocatable.pods) reasons.push('Too many pods');
    if (requested.milliCpu + pod.requests.milliCpu > node.allocatable.milliCpu)
      reasons.push('Insufficient cpu');
    if (requested.memoryBytes + pod.requests.memoryBytes > node.allocatable.memoryBytes) {
      reasons.push('Insufficient memory');
    }
    return reasons.length > 0 ? unschedulable(this.name, ...reasons) : SUCCESS;
  },
};
