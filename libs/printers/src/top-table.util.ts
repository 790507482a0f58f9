// `top` tables as kubectl prints them: CPU in millicores ("250m"), memory in mebibytes ("64Mi"), and
// for nodes the share of allocatable, rounded down. Worked example: node-a using "1500m" of CPU and
// "512Mi" of memory, with allocatable cpu "2" and memory "2Gi", prints
// `node-a   1500m   75%   512Mi   25%` (1500 / 2000 = 75 %, 512 / 2048 = 25 %).
import { Quantity, tryParseQuantity, type Node, type NodeMetrics, type PodMetrics } from '@flotilla/api';
import type { Table } from './table.printer';

const MiB = 1024n * 1024n;
const UNKNOWN = '<unknown>';

export type TopSortBy = 'cpu' | 'memory';

function milliCores(text: string | undefined): bigint | undefined {
  return text === undefined ? undefined : tryParseQuantity(text)?.milliValue();
}

function bytes(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  return tryParseQuantity(text)?.value();
}

const cpuCell = (milli: bigint): string => `${milli}m`;
const memoryCell = (value: bigint): string => `${value / MiB}Mi`;
const percent = (used: bigint, total: bigint | undefined): string =>
  total === undefined || total === 0n ? UNKNOWN : `${(used * 100n) / total}%`;

function sortKey<T>(by: TopSortBy | undefined, cpu: (row: T) => bigint, memory: (row: T) => bigint) {
  return (a: T, b: T): number => {
    if (by === undefined) return 0;
    const [x, y] = by === 'cpu' ? [cpu(a), cpu(b)] : [memory(a), memory(b)];
    return x === y ? 0 : x > y ? -1 : 1;
  };
}

export interface NodeTopOptions {
  metrics: readonly NodeMetrics[];
  /** Every node to list; a node without metrics yet shows <unknown>, as kubectl shows it. */
  nodes: readonly Node[];
  sortBy?: TopSortBy;
}

export function nodeTopTable(options: NodeTopOptions): Table {
  const byName = new Map(options.metrics.map((metrics) => [metrics.metadata.name ?? '', metrics]));
  const rows = options.nodes.map((node) => {
    const name = node.metadata.name ?? '';
    const metrics = byName.get(name);
    const cpu = milliCores(metrics?.usage.cpu);
    const memory = bytes(metrics?.usage.memory);
    return { name, cpu, memory, node };
  });
  const known = rows.filter((row) => row.cpu !== undefined && row.memory !== undefined);
  const unknown = rows.filter((row) => row.cpu === undefined || row.memory === undefined);
  known.sort(
    sortKey(
      options.sortBy,
      (row) => row.cpu ?? 0n,
      (row) => row.memory ?? 0n,
    ),
  );
  return {
    headers: ['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)'],
    rows: [
      ...known.map((row) => {
        const allocatable = row.node.status?.allocatable ?? {};
        const cpu = row.cpu ?? 0n;
        const memory = row.memory ?? 0n;
        return [
          row.name,
          cpuCell(cpu),
          percent(cpu, milliCores(allocatable['cpu'] as string | undefined)),
          memoryCell(memory),
          percent(memory, bytes(allocatable['memory'] as string | undefined)),
        ];
      }),
      ...unknown.map((row) => [row.name, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN]),
    ],
  };
}

export interface PodTopOptions {
  metrics: readonly PodMetrics[];
  /** A NAMESPACE column first (-A). */
  withNamespace?: boolean;
  /** One row per container (--containers). */
  containers?: boolean;
  sortBy?: TopSortBy;
}

/** kubectl adds the containers' quantities first and rounds the sum, not each container. */
function total(metrics: PodMetrics, field: 'cpu' | 'memory'): Quantity {
  return metrics.containers.reduce(
    (sum, container) => sum.add(tryParseQuantity(container.usage[field]) ?? Quantity.zero()),
    Quantity.zero(),
  );
}

export function podTopTable(options: PodTopOptions): Table {
  const cpuOf = (usage: { cpu: string }): bigint | undefined => milliCores(usage.cpu);
  const memoryOf = (usage: { memory: string }): bigint | undefined => bytes(usage.memory);
  const pods = [...options.metrics].sort(
    sortKey(
      options.sortBy,
      (pod) => total(pod, 'cpu').milliValue(),
      (pod) => total(pod, 'memory').value(),
    ),
  );
  const namespaceCell = (pod: PodMetrics): string[] =>
    options.withNamespace ? [pod.metadata.namespace ?? ''] : [];
  if (options.containers) {
    return {
      headers: [
        ...(options.withNamespace ? ['NAMESPACE'] : []),
        'POD',
        'NAME',
        'CPU(cores)',
        'MEMORY(bytes)',
      ],
      rows: pods.flatMap((pod) =>
        pod.containers.map((container) => [
          ...namespaceCell(pod),
          pod.metadata.name ?? '',
          container.name,
          cpuCell(cpuOf(container.usage) ?? 0n),
          memoryCell(memoryOf(container.usage) ?? 0n),
        ]),
      ),
    };
  }
  return {
    headers: [...(options.withNamespace ? ['NAMESPACE'] : []), 'NAME', 'CPU(cores)', 'MEMORY(bytes)'],
    rows: pods.map((pod) => [
      ...namespaceCell(pod),
      pod.metadata.name ?? '',
      cpuCell(total(pod, 'cpu').milliValue()),
      memoryCell(total(pod, 'memory').value()),
    ]),
  };
}
