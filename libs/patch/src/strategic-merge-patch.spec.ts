import { PatchError } from './patch-error';
import { applyStrategicMergePatch } from './strategic-merge-patch';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web', tier: 'front' }, finalizers: ['a', 'b'] },
  spec: {
    replicas: 3,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
    template: {
      spec: {
        containers: [
          {
            name: 'app',
            image: 'v1',
            args: ['--a'],
            env: [{ name: 'A', value: '1' }],
            ports: [{ containerPort: 80 }],
            volumeMounts: [{ mountPath: '/data', name: 'data' }],
          },
          { name: 'sidecar', image: 's1' },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
        tolerations: [{ key: 'x' }],
      },
    },
  },
};

type Json = Record<string, unknown>;

/** Reads a path like "spec.template.spec.containers.0.image" from a patched result. */
function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((current, key) => (current as Json | undefined)?.[key], value);
}

describe('applyStrategicMergePatch on a Deployment', () => {
  it.each<[string, Json, string, unknown]>([
    ['a scalar replaces', { spec: { replicas: 5 } }, 'spec.replicas', 5],
    ['null deletes a field', { spec: { replicas: null } }, 'spec.replicas', undefined],
    [
      'maps merge key by key',
      { metadata: { labels: { tier: 'back', new: 'x' } } },
      'metadata.labels',
      { app: 'web', tier: 'back', new: 'x' },
    ],
    [
      'containers merge by name, keeping the fields the patch does not name',
      { spec: { template: { spec: { containers: [{ name: 'app', image: 'v2' }] } } } },
      'spec.template.spec.containers.0',
      {
        name: 'app',
        image: 'v2',
        args: ['--a'],
        env: [{ name: 'A', value: '1' }],
        ports: [{ containerPort: 80 }],
        volumeMounts: [{ mountPath: '/data', name: 'data' }],
      },
    ],
    [
      'a container the list lacks is appended',
      { spec: { template: { spec: { containers: [{ name: 'new', image: 'n' }] } } } },
      'spec.template.spec.containers.2',
      { name: 'new', image: 'n' },
    ],
    [
      'env merges by name inside the container',
      { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '2' }] }] } } } },
      'spec.template.spec.containers.0.env',
      [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
    ],
    [
      'ports merge by containerPort',
      {
        spec: {
          template: { spec: { containers: [{ name: 'app', ports: [{ containerPort: 80, name: 'http' }] }] } },
        },
      },
      'spec.template.spec.containers.0.ports',
      [{ containerPort: 80, name: 'http' }],
    ],
    [
      'volumeMounts merge by mountPath',
      {
        spec: {
          template: {
            spec: { containers: [{ name: 'app', volumeMounts: [{ mountPath: '/data', readOnly: true }] }] },
          },
        },
      },
      'spec.template.spec.containers.0.volumeMounts',
      [{ mountPath: '/data', name: 'data', readOnly: true }],
    ],
    [
      'args, an atomic list, are replaced',
      { spec: { template: { spec: { containers: [{ name: 'app', args: ['--b'] }] } } } },
      'spec.template.spec.containers.0.args',
      ['--b'],
    ],
    [
      'tolerations, an atomic list in Kubernetes, are replaced',
      { spec: { template: { spec: { tolerations: [{ key: 'y' }] } } } },
      'spec.template.spec.tolerations',
      [{ key: 'y' }],
    ],
    [
      '$patch: delete removes a list item by its key',
      { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
      'spec.template.spec.containers.1',
      undefined,
    ],
    [
      '$patch: replace in a list replaces the whole list',
      { spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } } },
      'spec.template.spec.containers',
      [{ name: 'only', image: 'x' }],
    ],
    [
      '$patch: replace on a map replaces the map',
      { metadata: { labels: { $patch: 'replace', only: 'this' } } },
      'metadata.labels',
      { only: 'this' },
    ],
    [
      '$patch: delete on a map deletes it',
      { metadata: { labels: { $patch: 'delete' } } },
      'metadata.labels',
      undefined,
    ],
    [
      '$patch: merge is the default',
      { metadata: { labels: { $patch: 'merge', more: 'yes' } } },
      'metadata.labels.more',
      'yes',
    ],
    [
      'finalizers merge as a set',
      { metadata: { finalizers: ['c', 'a'] } },
      'metadata.finalizers',
      ['a', 'b', 'c'],
    ],
    [
      '$deleteFromPrimitiveList removes members of a set',
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
      'metadata.finalizers',
      ['b'],
    ],
    [
      '$setElementOrder orders a merged list; items only the server has follow',
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'new' }, { name: 'app' }],
              containers: [{ name: 'new', image: 'n' }],
            },
          },
        },
      },
      'spec.template.spec.containers',
      [
        { name: 'new', image: 'n' },
        expect.objectContaining({ name: 'app' }),
        { name: 'sidecar', image: 's1' },
      ],
    ],
    [
      '$retainKeys drops the keys it does not list (switching the strategy type)',
      { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      'spec.strategy',
      { type: 'Recreate' },
    ],
    [
      '$retainKeys in a volume switches its source',
      {
        spec: {
          template: {
            spec: {
              volumes: [{ name: 'data', $retainKeys: ['name', 'configMap'], configMap: { name: 'cm' } }],
            },
          },
        },
      },
      'spec.template.spec.volumes',
      [{ name: 'data', configMap: { name: 'cm' } }],
    ],
    [
      'the atomic selector still merges as a map: strategic merge patch does not know struct types',
      { spec: { selector: { matchLabels: { app: 'web' } } } },
      'spec.selector',
      { matchLabels: { app: 'web' } },
    ],
  ])('%s', (_name, patch, path, expected) => {
    const result = applyStrategicMergePatch({ kind: 'Deployment', target: deployment, patch });
    expect(at(result, path)).toEqual(expected);
  });

  it('does not modify its inputs', () => {
    const before = structuredClone(deployment);
    const patch = { spec: { template: { spec: { containers: [{ name: 'app', image: 'v9' }] } } } };
    applyStrategicMergePatch({ kind: 'Deployment', target: deployment, patch });
    expect(deployment).toEqual(before);
    expect(patch).toEqual({ spec: { template: { spec: { containers: [{ name: 'app', image: 'v9' }] } } } });
  });
});

describe('applyStrategicMergePatch on the other kinds', () => {
  it.each<[string, string, Json, Json, string, unknown]>([
    [
      'Service ports merge by port',
      'Service',
      { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } },
      { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
      'spec.ports',
      [{ port: 80, targetPort: 9090 }, { port: 443 }],
    ],
    [
      'Service selector merges as a map',
      'Service',
      { spec: { selector: { app: 'web' } } },
      { spec: { selector: { tier: 'front' } } },
      'spec.selector',
      { app: 'web', tier: 'front' },
    ],
    [
      'Endpoints subsets are replaced whole',
      'Endpoints',
      { subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] },
      { subsets: [{ addresses: [{ ip: '10.0.0.2' }] }] },
      'subsets',
      [{ addresses: [{ ip: '10.0.0.2' }] }],
    ],
    [
      'Node conditions merge by type',
      'Node',
      {
        status: {
          conditions: [
            { type: 'Ready', status: 'True' },
            { type: 'MemoryPressure', status: 'False' },
          ],
        },
      },
      { status: { conditions: [{ type: 'Ready', status: 'False' }] } },
      'status.conditions',
      [
        { type: 'Ready', status: 'False' },
        { type: 'MemoryPressure', status: 'False' },
      ],
    ],
    [
      'Node podCIDRs merge as a set',
      'Node',
      { spec: { podCIDRs: ['10.1.0.0/24'] } },
      { spec: { podCIDRs: ['10.1.0.0/24', 'fd00::/64'] } },
      'spec.podCIDRs',
      ['10.1.0.0/24', 'fd00::/64'],
    ],
    [
      'Node taints are replaced whole',
      'Node',
      { spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] } },
      { spec: { taints: [{ key: 'b', effect: 'NoSchedule' }] } },
      'spec.taints',
      [{ key: 'b', effect: 'NoSchedule' }],
    ],
    [
      'Pod ownerReferences merge by uid',
      'Pod',
      { metadata: { ownerReferences: [{ uid: '1', name: 'a' }] } },
      { metadata: { ownerReferences: [{ uid: '2', name: 'b' }] } },
      'metadata.ownerReferences',
      [
        { uid: '1', name: 'a' },
        { uid: '2', name: 'b' },
      ],
    ],
    [
      'HorizontalPodAutoscaler metrics are replaced whole',
      'HorizontalPodAutoscaler',
      { spec: { metrics: [{ type: 'Resource', resource: { name: 'cpu' } }] } },
      { spec: { metrics: [{ type: 'Resource', resource: { name: 'memory' } }] } },
      'spec.metrics',
      [{ type: 'Resource', resource: { name: 'memory' } }],
    ],
    [
      'ConfigMap data merges and null deletes a key',
      'ConfigMap',
      { data: { a: '1', b: '2' } },
      { data: { a: null, c: '3' } },
      'data',
      { b: '2', c: '3' },
    ],
    [
      'Lease spec fields replace',
      'Lease',
      { spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } },
      { spec: { holderIdentity: 'b' } },
      'spec',
      { holderIdentity: 'b', leaseDurationSeconds: 15 },
    ],
  ])('%s', (_name, kind, target, patch, path, expected) => {
    expect(at(applyStrategicMergePatch({ kind, target, patch }), path)).toEqual(expected);
  });
});

describe('applyStrategicMergePatch refuses bad patches', () => {
  it.each<[string, string, unknown, string]>([
    ['a patch that is not an object', 'Pod', ['x'], 'must be a JSON object'],
    [
      'an unknown $patch value',
      'Pod',
      { spec: { $patch: 'explode' } },
      'spec: unknown $patch directive "explode"',
    ],
    ['an unknown directive', 'Pod', { spec: { $replace: true } }, 'spec: unknown directive "$replace"'],
    [
      'a keyed item without its key',
      'Pod',
      { spec: { containers: [{ image: 'x' }] } },
      'spec.containers: an item lacks its merge key "name"',
    ],
    [
      'a plain value in a keyed list',
      'Pod',
      { spec: { containers: ['app'] } },
      'spec.containers: items must be objects identified by "name"',
    ],
    ['an object in a set of values', 'Pod', { metadata: { finalizers: [{ a: 1 }] } }, 'holds plain values'],
    [
      '$retainKeys that is not a list',
      'Deployment',
      { spec: { strategy: { $retainKeys: 'type' } } },
      'list of field names',
    ],
    [
      'a kind without patch strategies',
      'Widget',
      { spec: {} },
      'strategic merge patch is not supported for kind Widget; send a JSON merge patch',
    ],
  ])('%s', (_name, kind, patch, message) => {
    const run = () => applyStrategicMergePatch({ kind, target: {}, patch });
    expect(run).toThrow(PatchError);
    expect(run).toThrow(message);
  });
});
