import { RESOURCE_TYPES, type KubeObject, type ResourceType } from '@flotilla/api';
import { includeObjectOf, toTable, wantsTable } from './table-output';

function type(kind: string): ResourceType {
  const found = RESOURCE_TYPES.find((candidate) => candidate.kind === kind);
  if (!found) throw new Error(kind);
  return found;
}

describe('server-side tables', () => {
  it.each([
    [
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
      true,
    ],
    ['application/json', false],
    [undefined, false],
  ])('Accept %j asks for a table: %s', (accept, expected) => {
    expect(wantsTable(accept)).toBe(expected);
  });

  it('prints deployments with kubectl’s columns, wide ones at priority 1, and row metadata', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'web', creationTimestamp: '2026-01-01T11:00:00Z' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { spec: { containers: [{ name: 'httpd', image: 'busybox' }] } },
      },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    } as KubeObject;
    const table = toTable({
      type: type('Deployment'),
      objects: [deployment],
      resourceVersion: '7',
      include: includeObjectOf(undefined),
      now: new Date('2026-01-01T12:00:00Z'),
    }) as {
      kind: string;
      metadata: { resourceVersion: string };
      columnDefinitions: Array<{ name: string; priority: number }>;
      rows: Array<{ cells: string[]; object: { kind: string; metadata: { name: string } } }>;
    };
    expect(table.kind).toBe('Table');
    expect(table.metadata.resourceVersion).toBe('7');
    expect(table.columnDefinitions.map((column) => `${column.name}:${column.priority}`)).toEqual([
      'Name:0',
      'Ready:0',
      'Up-to-date:0',
      'Available:0',
      'Age:0',
      'Containers:1',
      'Images:1',
      'Selector:1',
    ]);
    expect(table.rows[0]?.cells).toEqual(['web', '2/3', '3', '2', '60m', 'httpd', 'busybox', 'app=web']);
    expect(table.rows[0]?.object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'web' } });
  });
});
