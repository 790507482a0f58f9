// createFieldsV1 is a shortcut for one case of the general ownership computation; it must give
// exactly what the general path gives: flatten, keep all but the top-level maps, encode.
import type { JsonObject } from './json-value';
import {
  createFieldsV1,
  decodeFieldsV1,
  decodePath,
  encodeFieldsV1,
  encodePath,
  flattenFields,
  type FieldScope,
} from './managed-fields';

function generalCreateFields(kind: string, object: JsonObject, scope: FieldScope): JsonObject | undefined {
  const after = flattenFields({ kind, object, scope });
  const owned = [...after]
    .filter(([path, node]) => node.node !== 'map' || decodePath(path).length > 1)
    .map(([path]) => path);
  return owned.length === 0 ? undefined : encodeFieldsV1(new Set(owned));
}

const container = { name: 'web', image: 'busybox', ports: [{ containerPort: 80, name: 'http' }] };

const CASES: Array<[string, string, JsonObject, FieldScope]> = [
  [
    'a pod with labels, containers, ports, env, volumes and resources',
    'Pod',
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        namespace: 'n',
        uid: 'u',
        labels: { app: 'web', tier: 'x' },
        annotations: { a: 'b' },
      },
      spec: {
        containers: [
          {
            ...container,
            env: [{ name: 'A', value: '1' }],
            resources: { requests: { cpu: '100m' }, limits: {} },
            command: ['a', 'b'],
          },
          { name: 'side', image: 'x' },
        ],
        volumes: [{ name: 'v', emptyDir: {} }],
        nodeSelector: { disk: 'ssd' },
        tolerations: [{ key: 'k', operator: 'Exists' }],
      },
      status: { phase: 'Pending' },
    },
    'main',
  ],
  [
    'only server metadata',
    'Namespace',
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } },
    'main',
  ],
  ['an empty spec is a field of its own', 'Namespace', { metadata: { name: 'a' }, spec: {} }, 'main'],
  [
    'keyed items without their key are skipped, duplicates merge',
    'Pod',
    {
      spec: {
        containers: [
          { image: 'no-name' },
          'not an object',
          { name: 'a', image: 'x' },
          { name: 'a', tty: true },
        ],
      },
    },
    'main',
  ],
  [
    'a service: ports keyed by port and defaulted protocol, an atomic selector',
    'Service',
    {
      metadata: { name: 's' },
      spec: {
        selector: { app: 'web' },
        ports: [
          { port: 80, targetPort: 8080 },
          { port: 53, protocol: 'UDP' },
        ],
      },
    },
    'main',
  ],
  [
    'a node: a set of pod CIDRs, status addresses for the status scope',
    'Node',
    {
      metadata: { name: 'n', labels: { zone: 'a' } },
      spec: { podCIDRs: ['10.0.0.0/24', '10.0.1.0/24'], taints: [{ key: 'a', effect: 'NoSchedule' }] },
      status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], capacity: { cpu: '2' } },
    },
    'status',
  ],
  [
    'a deployment template: nested maps below the top level are owned themselves',
    'Deployment',
    {
      metadata: { name: 'd' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container] } },
      },
    },
    'main',
  ],
  [
    'a set member listed twice, and items listed twice inside an item',
    'Pod',
    {
      metadata: { name: 'p', finalizers: ['a', 'b', 'a'] },
      spec: {
        containers: [
          {
            name: 'c',
            ports: [
              { containerPort: 80 },
              { containerPort: 80, protocol: 'UDP' },
              { containerPort: 80, name: 'x' },
            ],
          },
        ],
      },
    },
    'main',
  ],
  [
    'top-level scalars, empty lists and a "__proto__" key',
    'Secret',
    {
      metadata: { name: 's', labels: JSON.parse('{"__proto__":"x"}') as JsonObject },
      type: 'Opaque',
      immutable: true,
      data: { k: 'dg==' },
      list: [],
    },
    'main',
  ],
];

describe('createFieldsV1', () => {
  it.each(CASES)('%s: the same FieldsV1 as the general path', (_name, kind, object, scope) => {
    expect(JSON.stringify(createFieldsV1({ kind, object, scope }))).toBe(
      JSON.stringify(generalCreateFields(kind, object, scope)),
    );
  });

  it('writes the worked example of its comment', () => {
    const object = {
      metadata: { name: 'p', labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    };
    expect(createFieldsV1({ kind: 'Pod', object, scope: 'main' })).toEqual({
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
    });
  });

  it('is undefined when the object holds nothing a manager can own', () => {
    expect(
      createFieldsV1({ kind: 'Pod', object: { metadata: { name: 'p' } }, scope: 'main' }),
    ).toBeUndefined();
    expect(createFieldsV1({ kind: 'Pod', object: 'not an object', scope: 'main' })).toBeUndefined();
  });
});

describe('paths built segment by segment', () => {
  it('are the encodePath of their segments, for keys that need escaping too', () => {
    const labels = { 'a"b': 'x', 'c\\d': 'y', 'é/ü': 'z' };
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels },
      spec: { containers: [{ name: 'we"b', ports: [{ containerPort: 80, protocol: 'TCP' }] }] },
    };
    const paths = [...flattenFields({ kind: 'Pod', object: pod, scope: 'main' }).keys()];
    expect(paths).toContain(encodePath(['f:metadata', 'f:labels', 'f:a"b']));
    expect(paths).toContain(encodePath(['f:metadata', 'f:labels', 'f:é/ü']));
    expect(paths).toContain(
      encodePath([
        'f:spec',
        'f:containers',
        'k:{"name":"we\\"b"}',
        'f:ports',
        'k:{"containerPort":80,"protocol":"TCP"}',
      ]),
    );
    for (const path of paths) expect(encodePath(decodePath(path))).toBe(path);
    const decoded = decodeFieldsV1(encodeFieldsV1(new Set(paths)));
    expect([...decoded].sort()).toEqual([...paths].sort());
  });
});
