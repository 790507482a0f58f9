import { applyDefaults, defaultPullPolicy } from '../defaults/apply-defaults';
import { pruneUnknownFields, validateObject, validateStatusUpdate, validateUpdate } from './validate-object';

const deployment = (spec: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'flotilla/busybox:1',
            ports: [{ containerPort: 8080, name: 'http' }],
            resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
          },
        ],
      },
    },
    ...spec,
  },
  ...extra,
});

function fields(result: ReturnType<typeof validateObject>): string[] {
  return result.causes.map((cause) => `${cause.field ?? ''}: ${cause.message ?? ''}`);
}

describe('validateObject', () => {
  it('accepts a well-formed deployment', () => {
    expect(validateObject({ kind: 'Deployment', object: deployment(), fieldValidation: 'Strict' })).toEqual({
      causes: [],
      unknownFields: [],
      warnings: [],
    });
  });

  it('names every unknown field with its full path', () => {
    const object = deployment({ replikas: 3 }, { extra: true });
    (object.spec.template.spec.containers[0] as Record<string, unknown>)['imagePolicy'] = 'x';
    const result = validateObject({ kind: 'Deployment', object, fieldValidation: 'Strict' });
    expect(result.unknownFields.sort()).toEqual([
      'extra',
      'spec.replikas',
      'spec.template.spec.containers[0].imagePolicy',
    ]);
    const warned = validateObject({ kind: 'Deployment', object, fieldValidation: 'Warn' });
    expect(warned.warnings).toContain('unknown field "spec.replikas"');
    const pruned = pruneUnknownFields(object, result.unknownFields) as Record<string, unknown>;
    expect(pruned['extra']).toBeUndefined();
    expect(pruned).not.toHaveProperty('spec.replikas');
    expect(pruned).not.toHaveProperty(['spec', 'template', 'spec', 'containers', 0, 'imagePolicy']);
    expect(pruned).toHaveProperty(
      ['spec', 'template', 'spec', 'containers', 0, 'image'],
      'flotilla/busybox:1',
    );
  });

  it.each([
    ['a bad name', { metadata: { name: 'Web_1' } }, 'metadata.name: Invalid value: "Web_1"'],
    ['a missing image', { image: undefined }, 'spec.template.spec.containers[0].image: Required value'],
    [
      'a negative replica count',
      { replicas: -1 },
      'spec.replicas: Invalid value: -1: must not be less than 0',
    ],
    ['a negative quantity', { requests: { cpu: '-1' } }, 'must be greater than or equal to 0'],
    ['a malformed quantity', { requests: { cpu: '1x' } }, 'is not a valid quantity'],
    ['requests above limits', { requests: { cpu: '2' } }, 'must be less than or equal to cpu limit of 1'],
    [
      'an unknown pull policy',
      { imagePullPolicy: 'Sometimes' },
      'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
    ],
    ['a port out of range', { port: 70000 }, 'containerPort: Invalid value: 70000'],
    [
      'a selector that misses the template',
      { selector: { matchLabels: { app: 'other' } } },
      '`selector` does not match template `labels`',
    ],
    [
      'surge and unavailable both 0',
      { strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
      'may not be 0 when `maxSurge` is 0',
    ],
    ['a bad percentage', { strategy: { rollingUpdate: { maxSurge: '25' } } }, 'a valid percent string'],
  ])('rejects %s', (_label, change, expected) => {
    const object = deployment() as ReturnType<typeof deployment> & Record<string, unknown>;
    const container = object.spec.template.spec.containers[0] as Record<string, unknown>;
    const patch = change as Record<string, unknown>;
    if ('metadata' in patch) object.metadata = patch['metadata'] as typeof object.metadata;
    if ('image' in patch) container['image'] = patch['image'];
    if ('imagePullPolicy' in patch) container['imagePullPolicy'] = patch['imagePullPolicy'];
    if ('port' in patch) container['ports'] = [{ containerPort: patch['port'] }];
    if ('requests' in patch) container['resources'] = { requests: patch['requests'], limits: { cpu: '1' } };
    for (const key of ['replicas', 'selector', 'strategy']) {
      if (key in patch) (object.spec as Record<string, unknown>)[key] = patch[key];
    }
    const result = validateObject({ kind: 'Deployment', object, fieldValidation: 'Strict' });
    expect(fields(result).join('\n')).toContain(expected);
  });

  it('checks services: ports required, NodePort range, named ports when several', () => {
    const service = (spec: Record<string, unknown>) => ({ metadata: { name: 'web' }, spec });
    expect(
      fields(validateObject({ kind: 'Service', object: service({}), fieldValidation: 'Strict' })),
    ).toEqual(['spec.ports: Required value']);
    const range = validateObject({
      kind: 'Service',
      object: service({ type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }),
      fieldValidation: 'Strict',
    });
    expect(fields(range).join()).toContain('The range of valid ports is 30000-32767');
    const unnamed = validateObject({
      kind: 'Service',
      object: service({ ports: [{ port: 80 }, { port: 81 }] }),
      fieldValidation: 'Strict',
    });
    expect(fields(unnamed)).toEqual([
      'spec.ports[0].name: Required value',
      'spec.ports[1].name: Required value',
    ]);
  });

  it.each([
    [
      'sessionAffinity',
      'ClientIP',
      'spec.sessionAffinity: Unsupported value: "ClientIP": supported values: "None"',
    ],
    [
      'externalTrafficPolicy',
      'Local',
      'spec.externalTrafficPolicy: Unsupported value: "Local": supported values: "Cluster"',
    ],
    [
      'internalTrafficPolicy',
      'Local',
      'spec.internalTrafficPolicy: Unsupported value: "Local": supported values: "Cluster"',
    ],
  ])('refuses a service %s of %s, which the service proxy does not implement', (field, value, message) => {
    const result = validateObject({
      kind: 'Service',
      object: {
        metadata: { name: 'web' },
        spec: { type: 'NodePort', ports: [{ port: 80 }], [field]: value },
      },
      fieldValidation: 'Strict',
    });
    expect(fields(result).join('\n')).toContain(message);
  });

  it('checks that an HPA keeps min ≤ max and that names follow each kind’s rule', () => {
    const hpa = validateObject({
      kind: 'HorizontalPodAutoscaler',
      object: {
        metadata: { name: 'web' },
        spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 5, maxReplicas: 2 },
      },
      fieldValidation: 'Strict',
    });
    expect(fields(hpa)).toEqual([
      'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
    ]);
    const namespace = validateObject({
      kind: 'Namespace',
      object: { metadata: { name: 'a.b' } },
      fieldValidation: 'Strict',
    });
    expect(fields(namespace).join()).toContain('metadata.name: Invalid value: "a.b"');
  });

  it('refuses changes to immutable fields', () => {
    const causes = validateUpdate({
      kind: 'Deployment',
      old: deployment(),
      updated: deployment({ selector: { matchLabels: { app: 'x' } } }),
    });
    expect(causes.map((cause) => cause.field)).toEqual(['spec.selector']);
  });
});

describe('validateStatusUpdate', () => {
  const stored = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u-1', labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', image: 'flotilla/busybox:1' }] },
    status: { phase: 'Pending' },
  };
  const fieldsOf = (result: ReturnType<typeof validateStatusUpdate>): string[] =>
    result.causes.map((cause) => cause.field ?? '');

  it('accepts a new status over the stored spec and metadata', () => {
    const result = validateStatusUpdate({
      kind: 'Pod',
      old: stored,
      updated: { ...stored, status: { phase: 'Running' } },
    });
    expect(result).toEqual({ causes: [], unknownFields: [], warnings: [] });
  });

  it('refuses a status that is not an object', () => {
    expect(
      fieldsOf(validateStatusUpdate({ kind: 'Pod', old: stored, updated: { ...stored, status: 'Running' } })),
    ).toEqual(['status']);
    expect(
      fieldsOf(validateStatusUpdate({ kind: 'Pod', old: stored, updated: { ...stored, status: [] } })),
    ).toEqual(['status']);
  });

  it('refuses any change outside status and metadata; an equal copy of the spec passes', () => {
    const changed = { ...stored, spec: { ...stored.spec, nodeName: 'node-a' } };
    expect(fieldsOf(validateStatusUpdate({ kind: 'Pod', old: stored, updated: changed }))).toEqual(['spec']);
    const copied = { ...stored, spec: JSON.parse(JSON.stringify(stored.spec)) as unknown };
    expect(fieldsOf(validateStatusUpdate({ kind: 'Pod', old: stored, updated: copied }))).toEqual([]);
    const added = { ...stored, extra: 1 };
    expect(fieldsOf(validateStatusUpdate({ kind: 'Pod', old: stored, updated: added }))).toEqual(['extra']);
  });

  it('checks metadata that is not the stored one by the update rules', () => {
    const renamed = { ...stored, metadata: { ...stored.metadata, name: 'q', uid: 'u-2' } };
    expect(fieldsOf(validateStatusUpdate({ kind: 'Pod', old: stored, updated: renamed }))).toEqual([
      'metadata.name',
      'metadata.uid',
    ]);
    const badLabel = { ...stored, metadata: { ...stored.metadata, labels: { 'bad key!': 'x' } } };
    expect(fieldsOf(validateStatusUpdate({ kind: 'Pod', old: stored, updated: badLabel }))).not.toEqual([]);
  });
});

describe('applyDefaults', () => {
  it('fills a deployment as Kubernetes does', () => {
    const defaulted = applyDefaults('Deployment', {
      metadata: { name: 'web' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'a',
                image: 'x:latest',
                ports: [{ containerPort: 80 }],
                readinessProbe: { httpGet: { port: 80 } },
              },
            ],
          },
        },
      },
    });
    expect(defaulted.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        spec: {
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          schedulerName: 'default-scheduler',
          containers: [
            {
              imagePullPolicy: 'Always',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              readinessProbe: {
                httpGet: { path: '/', port: 80, scheme: 'HTTP' },
                timeoutSeconds: 1,
                periodSeconds: 10,
                successThreshold: 1,
                failureThreshold: 3,
              },
            },
          ],
        },
      },
    });
  });

  it.each([
    ['busybox', 'Always'],
    ['busybox:latest', 'Always'],
    ['busybox:1.36', 'IfNotPresent'],
    ['localhost:5000/busybox', 'Always'],
    ['registry/busybox@sha256:abc', 'IfNotPresent'],
  ])('pull policy of %s is %s', (image, expected) => {
    expect(defaultPullPolicy(image)).toBe(expected);
  });

  it('defaults service ports, secrets and HPA behavior', () => {
    expect(applyDefaults('Service', { spec: { ports: [{ port: 80 }] } }).spec).toEqual({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    });
    expect(applyDefaults('Secret', {})).toEqual({ type: 'Opaque' });
    expect(applyDefaults('HorizontalPodAutoscaler', { spec: { maxReplicas: 3 } }).spec).toMatchObject({
      minReplicas: 1,
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    });
  });
});
