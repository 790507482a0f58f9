// What Kubernetes' PodTolerationRestriction admission adds to every new pod that is not BestEffort: a
// toleration of node.kubernetes.io/memory-pressure:NoSchedule. Pods that request or limit CPU or memory
// are taken to cope with a node short of memory, so only new BestEffort pods are kept off a node
// under memory pressure (the node lifecycle controller taints it from its MemoryPressure condition).
//
// Worked example: a pod whose one container requests memory: 64Mi is Burstable → it gets
//   { key: node.kubernetes.io/memory-pressure, operator: Exists, effect: NoSchedule }
// while a pod with no requests and no limits (BestEffort) gets nothing, and a pod that already
// tolerates everything (operator Exists without a key) gets nothing more.
import { tryParseQuantity } from '../quantity';

type Json = Record<string, unknown>;

export const MEMORY_PRESSURE_TAINT = 'node.kubernetes.io/memory-pressure';

function record(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(record).filter((item): item is Json => item !== undefined) : [];
}

/** True when no container (init containers included) requests or limits CPU or memory. */
export function isBestEffort(spec: Json): boolean {
  for (const container of [...list(spec['containers']), ...list(spec['initContainers'])]) {
    const resources = record(container['resources']);
    for (const kind of ['requests', 'limits']) {
      const amounts = record(resources?.[kind]);
      for (const name of ['cpu', 'memory']) {
        const amount = amounts?.[name];
        if (amount === undefined) continue;
        // An unparsable amount is validation's to reject; it is not a request of nothing.
        const quantity = tryParseQuantity(amount);
        if (quantity === undefined || !quantity.isZero()) return false;
      }
    }
  }
  return true;
}

function tolerates(toleration: Json): boolean {
  const key = toleration['key'] ?? '';
  const operator = toleration['operator'] ?? 'Equal';
  const effect = toleration['effect'] ?? '';
  if (effect !== '' && effect !== 'NoSchedule') return false;
  if (key === '') return operator === 'Exists';
  return key === MEMORY_PRESSURE_TAINT && operator === 'Exists';
}

/** The spec with the memory-pressure toleration added when the pod is not BestEffort and lacks it. */
export function withMemoryPressureToleration(spec: Json): Json {
  if (isBestEffort(spec)) return spec;
  const tolerations = list(spec['tolerations']);
  if (tolerations.some(tolerates)) return spec;
  return {
    ...spec,
    tolerations: [
      ...(Array.isArray(spec['tolerations']) ? spec['tolerations'] : []),
      { key: MEMORY_PRESSURE_TAINT, operator: 'Exists', effect: 'NoSchedule' },
    ],
  };
}
