import type { Node, NodeMetrics, PodMetrics } from '@flotilla/api';
import { nodeTopTable, podTopTable } from './top-table.util';
import { renderTable } from './table.printer';

function node(name: string, cpu: string, memory: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: { allocatable: { cpu, memory } },
  } as Node;
}

function nodeMetrics(name: string, cpu: string, memory: string): NodeMetrics {
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'NodeMetrics',
    metadata: { name },
    timestamp: '2026-11-23T10:00:05Z',
    window: '5s',
    usage: { cpu, memory },
  };
}

function podMetrics(
  namespace: string,
  name: string,
  containers: Array<[string, string, string]>,
): PodMetrics {
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'PodMetrics',
    metadata: { name, namespace },
    timestamp: '2026-11-23T10:00:05Z',
    window: '5s',
    containers: containers.map(([container, cpu, memory]) => ({ name: container, usage: { cpu, memory } })),
  };
}

describe('nodeTopTable', () => {
  it('prints the worked example as kubectl does', () => {
    const table = nodeTopTable({
      nodes: [node('node-a', '2', '2Gi')],
      metrics: [nodeMetrics('node-a', '1500m', '512Mi')],
    });
    expect(renderTable(table)).toBe(
      'NAME     CPU(cores)   CPU(%)   MEMORY(bytes)   MEMORY(%)\n' +
        'node-a   1500m        75%      512Mi           25%\n',
    );
  });

  it.each([
    {
      name: 'nanocores round up to a millicore',
      cpu: '1234567n',
      memory: '1048576',
      cells: ['2m', '0%', '1Mi', '0%'],
    },
    {
      name: 'memory in plain bytes rounds down to Mi',
      cpu: '0',
      memory: '3145727',
      cells: ['0m', '0%', '2Mi', '0%'],
    },
    { name: 'a full node', cpu: '2', memory: '2Gi', cells: ['2000m', '100%', '2048Mi', '100%'] },
  ])('$name', ({ cpu, memory, cells }) => {
    const table = nodeTopTable({ nodes: [node('n', '2', '2Gi')], metrics: [nodeMetrics('n', cpu, memory)] });
    expect(table.rows).toEqual([['n', ...cells]]);
  });

  it('lists nodes without metrics yet as <unknown>, after the others, and sorts by --sort-by', () => {
    const table = nodeTopTable({
      nodes: [node('a', '1', '1Gi'), node('b', '1', '1Gi'), node('c', '1', '1Gi')],
      metrics: [nodeMetrics('a', '100m', '900Mi'), nodeMetrics('c', '900m', '100Mi')],
      sortBy: 'cpu',
    });
    expect(table.rows.map((row) => row[0])).toEqual(['c', 'a', 'b']);
    expect(table.rows[2]).toEqual(['b', '<unknown>', '<unknown>', '<unknown>', '<unknown>']);
    const byMemory = nodeTopTable({
      nodes: [node('a', '1', '1Gi'), node('c', '1', '1Gi')],
      metrics: [nodeMetrics('a', '100m', '900Mi'), nodeMetrics('c', '900m', '100Mi')],
      sortBy: 'memory',
    });
    expect(byMemory.rows.map((row) => row[0])).toEqual(['a', 'c']);
  });

  it('says <unknown> for a percentage when the node has no allocatable', () => {
    const bare = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'x' } } as Node;
    expect(nodeTopTable({ nodes: [bare], metrics: [nodeMetrics('x', '1', '1Mi')] }).rows).toEqual([
      ['x', '1000m', '<unknown>', '1Mi', '<unknown>'],
    ]);
  });
});

describe('podTopTable', () => {
  const metrics = [
    podMetrics('shop', 'web', [
      ['web', '250m', '64Mi'],
      ['sidecar', '1500000n', '1Mi'],
    ]),
    podMetrics('shop', 'db', [['db', '10m', '512Mi']]),
  ];

  it('sums containers per pod (the sum is rounded, as kubectl does)', () => {
    expect(renderTable(podTopTable({ metrics }))).toBe(
      'NAME   CPU(cores)   MEMORY(bytes)\n' + 'web    252m         65Mi\n' + 'db     10m          512Mi\n',
    );
  });

  it.each([
    { sortBy: 'cpu' as const, order: ['web', 'db'] },
    { sortBy: 'memory' as const, order: ['db', 'web'] },
  ])('sorts by $sortBy, largest first', ({ sortBy, order }) => {
    expect(podTopTable({ metrics, sortBy }).rows.map((row) => row[0])).toEqual(order);
  });

  it('prints one row per container with --containers and the namespace with -A', () => {
    const table = podTopTable({ metrics, containers: true, withNamespace: true });
    expect(table.headers).toEqual(['NAMESPACE', 'POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    expect(table.rows).toEqual([
      ['shop', 'web', 'web', '250m', '64Mi'],
      ['shop', 'web', 'sidecar', '2m', '1Mi'],
      ['shop', 'db', 'db', '10m', '512Mi'],
    ]);
  });
});
