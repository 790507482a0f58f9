import { PatchError } from './patch-error';
import { applyStrategicMergePatch } from './strategic-merge-patch';

const deployment = {
  metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['a'] },
  spec: {
    replicas: 3,
    template: {
      spec: {
        containers: [
          { name: 'app', image: 'v1', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }] },
          { name: 'sidecar', image: 's1' },
        ],
        tolerations: [{ key: 'x' }],
      },
    },
  },
};

describe('applyStrategicMergePatch', () => {
  it('merges containers by name and env by name, keeping the rest', () => {
    const result = applyStrategicMergePatch({
      kind: 'Deployment',
      target: deployment,
      patch: {
        spec: {
          template: {
            spec: { containers: [{ name: 'app', image: 'v2', env: [{ name: 'B', value: '2' }] }] },
          },
        },
      },
    }) as typeof deployment;
    const [app, sidecar] = result.spec.template.spec.containers;
    expect(app).toEqual({
      name: 'app',
      image: 'v2',
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
      ports: [{ containerPort: 80 }],
    });
    expect(sidecar).toEqual({ name: 'sidecar', image: 's1' });
  });

  it.each([
    [
      'null deletes a field',
      { spec: { replicas: null } },
      (r: typeof deployment) => expect(r.spec.replicas).toBeUndefined(),
    ],
    [
      '$patch: delete removes a list item',
      { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
      (r: typeof deployment) => expect(r.spec.template.spec.containers.map((c) => c.name)).toEqual(['app']),
    ],
    [
      '$patch: replace replaces a list',
      { spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } } },
      (r: typeof deployment) =>
        expect(r.spec.template.spec.containers).toEqual([{ name: 'only', image: 'x' }]),
    ],
    [
      'atomic lists are replaced',
      { spec: { template: { spec: { tolerations: [{ key: 'y' }] } } } },
      (r: typeof deployment) => expect(r.spec.template.spec.tolerations).toEqual([{ key: 'y' }]),
    ],
    [
      'finalizers merge as a set',
      { metadata: { finalizers: ['b', 'a'] } },
      (r: typeof deployment) => expect(r.metadata.finalizers).toEqual(['a', 'b']),
    ],
    [
      '$deleteFromPrimitiveList removes set members',
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
      (r: typeof deployment) => expect(r.metadata.finalizers).toEqual([]),
    ],
    [
      '$setElementOrder orders a merged list',
      {
        spec: {
          template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }] } },
        },
      },
      (r: typeof deployment) =>
        expect(r.spec.template.spec.containers.map((c) => c.name)).toEqual(['sidecar', 'app']),
    ],
    [
      '$retainKeys drops keys not listed',
      { metadata: { $retainKeys: ['name'], name: 'web' } },
      (r: typeof deployment) => expect(r.metadata).toEqual({ name: 'web' }),
    ],
  ])('%s', (_name, patch, check) => {
    check(applyStrategicMergePatch({ kind: 'Deployment', target: deployment, patch }) as typeof deployment);
  });

  it('refuses unknown directives and items without their merge key', () => {
    expect(() =>
      applyStrategicMergePatch({ kind: 'Pod', target: {}, patch: { spec: { $patch: 'explode' } } }),
    ).toThrow(PatchError);
    expect(() =>
      applyStrategicMergePatch({
        kind: 'Pod',
        target: {},
        patch: { spec: { containers: [{ image: 'x' }] } },
      }),
    ).toThrow('lacks its merge key "name"');
  });
});
