import { fieldStrategy, hasPatchStrategies } from './patch-strategies';

// The values Kubernetes publishes in its OpenAPI (x-kubernetes-patch-strategy, -patch-merge-key,
// -list-type, -list-map-keys, -map-type) for the fields whose merging users notice most.
describe('patch strategies', () => {
  it.each([
    [
      'Pod',
      'spec.containers',
      { strategy: 'merge', mergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    ],
    [
      'Pod',
      'spec.containers.ports',
      { mergeKey: 'containerPort', listMapKeys: ['containerPort', 'protocol'] },
    ],
    ['Pod', 'spec.initContainers.env', { mergeKey: 'name', listType: 'map' }],
    ['Pod', 'spec.containers.volumeMounts', { mergeKey: 'mountPath', listMapKeys: ['mountPath'] }],
    ['Pod', 'spec.volumes', { strategy: 'merge,retainKeys', mergeKey: 'name' }],
    ['Pod', 'spec.imagePullSecrets', { mergeKey: 'name' }],
    ['Pod', 'spec.tolerations', { listType: 'atomic' }],
    ['Pod', 'spec.nodeSelector', { mapType: 'atomic' }],
    ['Pod', 'status.conditions', { mergeKey: 'type', listMapKeys: ['type'] }],
    ['Deployment', 'spec.template.spec.containers', { mergeKey: 'name' }],
    ['Deployment', 'spec.template.spec.containers.ports', { mergeKey: 'containerPort' }],
    ['Deployment', 'spec.template.metadata.finalizers', { strategy: 'merge', listType: 'set' }],
    ['Deployment', 'spec.selector', { mapType: 'atomic' }],
    ['Deployment', 'spec.strategy', { strategy: 'retainKeys' }],
    ['ReplicaSet', 'spec.template.spec.volumes', { mergeKey: 'name' }],
    ['Service', 'spec.ports', { mergeKey: 'port', listMapKeys: ['port', 'protocol'] }],
    ['Service', 'spec.selector', { mapType: 'atomic' }],
    ['Endpoints', 'subsets', { listType: 'atomic' }],
    ['Node', 'status.addresses', { mergeKey: 'type' }],
    ['HorizontalPodAutoscaler', 'spec.metrics', { listType: 'atomic' }],
    ['HorizontalPodAutoscaler', 'status.conditions', { mergeKey: 'type' }],
    ['ConfigMap', 'metadata.ownerReferences', { mergeKey: 'uid', listMapKeys: ['uid'] }],
    ['Lease', 'metadata.finalizers', { listType: 'set' }],
  ])('%s %s', (kind, path, expected) => {
    expect(fieldStrategy(kind, path)).toMatchObject(expected);
  });

  it.each([
    ['Pod', 'spec.containers.args'],
    ['Secret', 'data'],
    ['Event', 'involvedObject'],
  ])('%s %s is merged by default: atomic if a list, key by key if a map', (kind, path) => {
    const strategy = fieldStrategy(kind, path);
    expect([strategy.strategy, strategy.mergeKey, strategy.listType === 'map']).toEqual([
      undefined,
      undefined,
      false,
    ]);
  });

  it('covers every kind the apiserver serves (and the Scale subresource), and only those', () => {
    const served = ['Namespace', 'Pod', 'Service', 'Endpoints', 'Node', 'ConfigMap', 'Secret', 'Event'];
    const grouped = ['Deployment', 'ReplicaSet', 'HorizontalPodAutoscaler', 'Lease', 'Scale'];
    for (const kind of [...served, ...grouped]) expect(hasPatchStrategies(kind)).toBe(true);
    expect(hasPatchStrategies('CustomThing')).toBe(false);
    expect(hasPatchStrategies('toString')).toBe(false);
  });
});
