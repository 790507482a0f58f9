import { apiGroup, apiGroupList, apiResourceList } from './discovery-documents';

describe('discovery documents', () => {
  it('lists every group with its preferred version', () => {
    const list = apiGroupList() as {
      groups: Array<{ name: string; preferredVersion: { groupVersion: string } }>;
    };
    expect(list.groups.map((group) => group.preferredVersion.groupVersion).sort()).toEqual([
      'apps/v1',
      'autoscaling/v2',
      'coordination.k8s.io/v1',
      'metrics.k8s.io/v1beta1',
    ]);
    expect(apiGroup('apps')).toMatchObject({ kind: 'APIGroup', name: 'apps' });
    expect(apiGroup('batch')).toBeUndefined();
  });

  it('lists resources with subresources as kubectl expects them', () => {
    const list = apiResourceList('apps', 'v1') as {
      groupVersion: string;
      resources: Array<{ name: string; kind: string; group?: string; shortNames?: string[] }>;
    };
    expect(list.groupVersion).toBe('apps/v1');
    expect(list.resources.find((r) => r.name === 'deployments')).toMatchObject({
      kind: 'Deployment',
      shortNames: ['deploy'],
    });
    expect(list.resources.find((r) => r.name === 'deployments/scale')).toMatchObject({
      kind: 'Scale',
      group: 'autoscaling',
    });
    expect(apiResourceList('apps', 'v9')).toBeUndefined();
  });

  it('serves metrics.k8s.io nodes and pods read-only, as metrics-server does', () => {
    expect(apiGroup('metrics.k8s.io')).toMatchObject({
      preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' },
    });
    expect(apiResourceList('metrics.k8s.io', 'v1beta1')).toEqual({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: 'metrics.k8s.io/v1beta1',
      resources: [
        { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
        { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
      ],
    });
  });
});
