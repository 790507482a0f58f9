import type { ConfigMap, Container, Pod, Secret } from '@flotilla/api';
import {
  ContainerConfigError,
  containerEnv,
  expandCommand,
  expandVars,
  objectKey,
  referencedObjects,
  type EnvContext,
} from './container-env.util';

describe('expandVars (Kubernetes $(VAR) expansion)', () => {
  const vars = new Map([
    ['A', 'x'],
    ['B', 'x-y'],
  ]);
  it.each([
    ['$(A)', 'x'],
    ['$(A)-y', 'x-y'],
    ['$$(A)', '$(A)'],
    ['$(NOPE)', '$(NOPE)'],
    ['a$b', 'a$b'],
    ['$(A', '$(A'],
    ['trailing $', 'trailing $'],
    ['$(A)$(B)', 'xx-y'],
    ['$$$(A)', '$x'],
  ])('%s → %s', (input, expected) => {
    expect(expandVars(input, vars)).toBe(expected);
  });
});

const pod: Pod = {
  metadata: { name: 'web-1', namespace: 'shop', uid: '1234-uid', labels: { app: 'web' } },
  spec: { containers: [], nodeName: 'node-a' },
};
const configMap: ConfigMap = { metadata: { name: 'settings' }, data: { mode: 'fast', 'bad key': 'x' } };
const secret: Secret = {
  metadata: { name: 'creds' },
  data: { password: Buffer.from('s3cret').toString('base64') },
};
const context: EnvContext = {
  pod,
  nodeName: 'node-a',
  podIP: '10.88.0.7',
  hostIP: '192.168.0.2',
  objects: new Map<string, ConfigMap | Secret>([
    [objectKey('ConfigMap', 'settings'), configMap],
    [objectKey('Secret', 'creds'), secret],
  ]),
  allocatable: { cpuMillicores: 2000, memoryBytes: 1024 },
};

describe('containerEnv', () => {
  it.each<[string, Container, string[]]>([
    [
      'the worked example',
      {
        name: 'c',
        env: [
          { name: 'A', value: 'x' },
          { name: 'B', value: '$(A)-y' },
          { name: 'C', value: '$$(A)' },
          { name: 'D', value: '$(NOPE)' },
        ],
      },
      ['A=x', 'B=x-y', 'C=$(A)', 'D=$(NOPE)'],
    ],
    [
      'field references',
      {
        name: 'c',
        env: [
          { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        ],
      },
      ['NAME=web-1', 'NS=shop', 'UID=1234-uid', 'IP=10.88.0.7', 'HOST=192.168.0.2', 'NODE=node-a', 'APP=web'],
    ],
    [
      'ConfigMap and Secret keys, envFrom with prefix (invalid names skipped), env wins',
      {
        name: 'c',
        envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
        env: [
          { name: 'CFG_mode', value: 'slow' },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'missing', key: 'x', optional: true } } },
        ],
      },
      ['CFG_mode=slow', 'PASSWORD=s3cret'],
    ],
    [
      'resource fields with divisors, unset limits from allocatable',
      {
        name: 'c',
        resources: { limits: { memory: '64Mi' } },
        env: [
          { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
          { name: 'CPUM', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
        ],
      },
      ['MEM=64', 'CPU=2', 'CPUM=2000'],
    ],
  ])('%s', (_label, container, expected) => {
    expect(containerEnv(container, context)).toEqual(expected);
  });

  it.each<[string, Container, string]>([
    [
      'a missing ConfigMap',
      { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] },
      'configmap "nope" not found',
    ],
    [
      'a missing key',
      { name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'user' } } }] },
      "couldn't find key user in Secret shop/creds",
    ],
    [
      'a missing envFrom Secret',
      { name: 'c', envFrom: [{ secretRef: { name: 'gone' } }] },
      'secret "gone" not found',
    ],
  ])('refuses %s', (_label, container, message) => {
    expect(() => containerEnv(container, context)).toThrow(new ContainerConfigError(message));
  });
});

describe('referencedObjects and expandCommand', () => {
  it('lists each object once', () => {
    expect(
      referencedObjects({
        name: 'c',
        envFrom: [{ configMapRef: { name: 'a' } }, { secretRef: { name: 's' } }],
        env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'a', key: 'k' } } }],
      }),
    ).toEqual([
      { kind: 'ConfigMap', name: 'a' },
      { kind: 'Secret', name: 's' },
    ]);
  });

  it('expands command words against the environment', () => {
    expect(expandCommand(['echo', '$(B)', '$$(B)'], ['B=x-y'])).toEqual(['echo', 'x-y', '$(B)']);
    expect(expandCommand(undefined, [])).toBeUndefined();
  });
});
