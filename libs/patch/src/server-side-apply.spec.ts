import type { KubeObject } from '@flotilla/api';
import { decodeFieldsV1, encodeFieldsV1, fieldsOf } from './managed-fields';
import { PatchError } from './patch-error';
import { ApplyConflictError, apply, describeConflicts, recordUpdate } from './server-side-apply';

const now = new Date('2026-11-23T10:00:00.123Z');

interface DeploymentShape {
  replicas?: number;
  paused?: boolean;
  selector?: Record<string, unknown>;
  template?: { metadata?: Record<string, unknown>; spec: { containers: Array<Record<string, unknown>> } };
}

function deployment(spec: DeploymentShape, labels?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'web', ...(labels ? { labels } : {}) },
    spec,
  } as KubeObject;
}

const template = (image: string, ...more: Array<Record<string, unknown>>) => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'app', image }, ...more] },
});

function specOf(object: KubeObject): DeploymentShape {
  return (object as unknown as { spec: DeploymentShape }).spec;
}

function containersOf(object: KubeObject): Array<Record<string, unknown>> {
  return specOf(object).template?.spec.containers ?? [];
}

function managers(object: KubeObject): string[] {
  return (object.metadata?.managedFields ?? []).map((entry) => `${entry.manager}/${entry.operation}`);
}

function applyAs(manager: string, live: KubeObject | undefined, applied: KubeObject, force = false) {
  return apply({ live, applied, manager, force, now });
}

function update(manager: string, old: KubeObject, change: (spec: DeploymentShape) => DeploymentShape) {
  const updated = { ...old, spec: change(structuredClone(specOf(old))) } as KubeObject;
  return recordUpdate({ old, updated, manager, now });
}

describe('server-side apply: the autoscaler and the manifest', () => {
  const created = applyAs(
    'deployer',
    undefined,
    deployment({ replicas: 3, template: template('v1') }),
  ).object;
  const scaled = update('hpa', created, (spec) => ({ ...spec, replicas: 5 }));

  it('gives replicas to the manager that last changed them', () => {
    const hpa = scaled.metadata?.managedFields?.find((entry) => entry.manager === 'hpa');
    expect(hpa).toEqual({
      manager: 'hpa',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: '2026-11-23T10:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:spec': { 'f:replicas': {} } },
    });
  });

  it('keeps the autoscaler replicas when the manifest stops setting them', () => {
    const reapplied = applyAs('deployer', scaled, deployment({ template: template('v2') }));
    expect(reapplied.conflicts).toEqual([]);
    expect(specOf(reapplied.object).replicas).toBe(5);
    expect(containersOf(reapplied.object)[0]?.['image']).toBe('v2');
  });

  it('reports a conflict naming the autoscaler when the manifest sets replicas again', () => {
    const reapplied = applyAs('deployer', scaled, deployment({ template: template('v2') })).object;
    const fighting = applyAs('deployer', reapplied, deployment({ replicas: 3, template: template('v2') }));
    expect(fighting.conflicts).toEqual([
      { manager: 'hpa', operation: 'Update', apiVersion: 'apps/v1', field: '.spec.replicas' },
    ]);
    expect(fighting.object).toBe(reapplied);
    expect(describeConflicts(fighting.conflicts)).toBe(
      'Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas',
    );
  });

  it('takes replicas over when forced', () => {
    const reapplied = applyAs('deployer', scaled, deployment({ template: template('v2') })).object;
    const forced = applyAs(
      'deployer',
      reapplied,
      deployment({ replicas: 3, template: template('v2') }),
      true,
    );
    expect(forced.conflicts).toHaveLength(1);
    expect(specOf(forced.object).replicas).toBe(3);
    expect(managers(forced.object)).toEqual(['deployer/Apply']);
    const again = applyAs('deployer', forced.object, deployment({ replicas: 3, template: template('v2') }));
    expect(again.conflicts).toEqual([]);
  });
});

describe('server-side apply: ownership', () => {
  const first = applyAs(
    'deployer',
    undefined,
    deployment(
      { replicas: 2, paused: true, template: template('v1', { name: 'log', image: 'l1' }) },
      { a: '1', b: '2' },
    ),
  ).object;

  it.each([
    [
      'a field left out is removed',
      deployment({ replicas: 2, template: template('v1', { name: 'log', image: 'l1' }) }, { a: '1', b: '2' }),
      (object: KubeObject) => expect(specOf(object).paused).toBeUndefined(),
    ],
    [
      'a label left out is removed, and the labels map with the last one',
      deployment({ replicas: 2, paused: true, template: template('v1', { name: 'log', image: 'l1' }) }),
      (object: KubeObject) => expect(object.metadata?.labels).toBeUndefined(),
    ],
    [
      'a container left out is removed whole',
      deployment({ replicas: 2, paused: true, template: template('v1') }, { a: '1', b: '2' }),
      (object: KubeObject) => expect(containersOf(object).map((c) => c['name'])).toEqual(['app']),
    ],
    [
      'a field of a container left out is removed, the container stays',
      deployment(
        { replicas: 2, paused: true, template: template('v1', { name: 'log' }) },
        { a: '1', b: '2' },
      ),
      (object: KubeObject) => expect(containersOf(object)[1]).toEqual({ name: 'log' }),
    ],
  ])('%s', (_name, applied, check) => {
    const result = applyAs('deployer', first, applied);
    expect(result.conflicts).toEqual([]);
    check(result.object);
  });

  it('shares a field applied with the same value, and keeps it while the other manager holds it', () => {
    const shared = applyAs('ci', first, deployment({ replicas: 2 }));
    expect(shared.conflicts).toEqual([]);
    const dropped = applyAs('deployer', shared.object, deployment({ template: template('v1') })).object;
    expect(specOf(dropped).replicas).toBe(2);
    expect(specOf(dropped).paused).toBeUndefined();
  });

  it('conflicts with another applier by its name alone', () => {
    const result = applyAs('ci', first, deployment({ replicas: 4, paused: false }));
    expect(describeConflicts(result.conflicts)).toBe(
      'Apply failed with 2 conflicts: conflicts with "deployer":\n- .spec.replicas\n- .spec.paused',
    );
    const error = new ApplyConflictError(result.conflicts);
    expect(error.causes()).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "deployer"', field: '.spec.replicas' },
      { reason: 'FieldManagerConflict', message: 'conflict with "deployer"', field: '.spec.paused' },
    ]);
  });

  it('merges keyed lists item by item, each manager owning its own container', () => {
    const mesh = applyAs(
      'mesh',
      first,
      deployment({ template: { spec: { containers: [{ name: 'proxy', image: 'p1' }] } } }),
    );
    expect(mesh.conflicts).toEqual([]);
    expect(containersOf(mesh.object).map((c) => c['name'])).toEqual(['app', 'log', 'proxy']);
    const withoutLog = applyAs(
      'deployer',
      mesh.object,
      deployment({ replicas: 2, template: template('v1') }),
    );
    expect(containersOf(withoutLog.object).map((c) => c['name'])).toEqual(['app', 'proxy']);
  });

  it('does not conflict on a container another manager also applied when its own fields agree', () => {
    const defaulted = update('defaulter', first, (spec) => {
      const [app] = spec.template?.spec.containers ?? [];
      if (app) app['imagePullPolicy'] = 'IfNotPresent';
      return spec;
    });
    const result = applyAs('deployer', defaulted, deployment({ replicas: 2, template: template('v2') }));
    expect(result.conflicts).toEqual([]);
    expect(containersOf(result.object)[0]).toEqual({
      name: 'app',
      image: 'v2',
      imagePullPolicy: 'IfNotPresent',
    });
  });

  it('replaces atomic fields whole: a Deployment selector', () => {
    const withSelector = applyAs(
      'deployer',
      undefined,
      deployment({ selector: { matchLabels: { app: 'web', tier: 'front' } } }),
    ).object;
    const narrowed = applyAs(
      'deployer',
      withSelector,
      deployment({ selector: { matchLabels: { app: 'web' } } }),
    );
    expect(specOf(narrowed.object).selector).toEqual({ matchLabels: { app: 'web' } });
    expect(narrowed.object.metadata?.managedFields?.[0]?.fieldsV1).toEqual({
      'f:spec': { 'f:selector': {} },
    });
  });

  it('never takes status from an apply to the main resource', () => {
    const applied = { ...deployment({ replicas: 1 }), status: { replicas: 9 } } as KubeObject;
    const result = applyAs('deployer', undefined, applied).object as KubeObject & { status?: unknown };
    expect(result.status).toBeUndefined();
  });
});

describe('server-side apply: bad configurations', () => {
  it.each([
    [
      'managedFields in the configuration',
      { ...deployment({}), metadata: { name: 'web', managedFields: [] } },
      'metadata.managedFields must be nil',
    ],
    [
      'a container without its name',
      deployment({ template: { spec: { containers: [{ image: 'x' }] } } }),
      '.spec.template.spec.containers: every item must be an object with name set',
    ],
    [
      'the same container twice',
      deployment({ template: { spec: { containers: [{ name: 'a' }, { name: 'a' }] } } }),
      '.spec.template.spec.containers[name="a"]: the item is listed twice',
    ],
    [
      'a configuration without kind',
      { apiVersion: 'v1', metadata: { name: 'x' } },
      'must set apiVersion and kind',
    ],
  ])('refuses %s', (_name, applied, message) => {
    const run = () =>
      apply({ live: undefined, applied: applied as KubeObject, manager: 'm', force: false, now });
    expect(run).toThrow(PatchError);
    expect(run).toThrow(message);
  });
});

describe('FieldsV1', () => {
  it('encodes what Kubernetes writes for an applied Deployment and decodes it back', () => {
    const fields = fieldsOf({
      kind: 'Deployment',
      object: deployment({ replicas: 1, template: template('v1') }, { app: 'web' }),
      scope: 'main',
    });
    const encoded = encodeFieldsV1(fields);
    expect(encoded).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        },
      },
    });
    expect(decodeFieldsV1(encoded)).toEqual(fields);
  });

  it.each([
    [
      'Pod container ports by containerPort and protocol, TCP by default',
      'Pod',
      { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }] }] } },
      {
        'f:spec': {
          'f:containers': {
            'k:{"name":"a"}': {
              '.': {},
              'f:name': {},
              'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
            },
          },
        },
      },
    ],
    [
      'finalizers as a set',
      'ConfigMap',
      { metadata: { name: 'x', finalizers: ['a/b'] }, data: { k: 'v' } },
      { 'f:metadata': { 'f:finalizers': { 'v:"a/b"': {} } }, 'f:data': { 'f:k': {} } },
    ],
    [
      'Service ports by port and protocol, the selector whole',
      'Service',
      { spec: { selector: { app: 'web' }, ports: [{ port: 80, protocol: 'UDP' }] } },
      {
        'f:spec': {
          'f:selector': {},
          'f:ports': { 'k:{"port":80,"protocol":"UDP"}': { '.': {}, 'f:port': {}, 'f:protocol': {} } },
        },
      },
    ],
    [
      'Endpoints subsets whole',
      'Endpoints',
      { subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] },
      { 'f:subsets': {} },
    ],
  ])('encodes %s', (_name, kind, object, expected) => {
    expect(encodeFieldsV1(fieldsOf({ kind, object, scope: 'main' }))).toEqual(expected);
  });
});

describe('recordUpdate', () => {
  const pod = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject =>
    ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default', uid: 'u1', resourceVersion: '7', labels: { app: 'p' } },
      spec,
      ...(status ? { status } : {}),
    }) as KubeObject;
  const fieldsOfManager = (object: KubeObject, manager: string) =>
    object.metadata?.managedFields?.find((entry) => entry.manager === manager)?.fieldsV1;

  it('gives a creator every field it wrote, maps it created included, server fields excluded', () => {
    const created = recordUpdate({
      old: undefined,
      updated: pod({ containers: [{ name: 'c', image: 'i' }] }),
      manager: 'kubectl-create',
      now,
    });
    expect(fieldsOfManager(created, 'kubectl-create')).toEqual({
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
    });
  });

  it.each([
    [
      'a changed field moves to the writer',
      (spec: Record<string, unknown>) => ({ ...spec, containers: [{ name: 'c', image: 'j' }] }),
      {
        creator: {
          'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:name': {} } }, 'f:nodeName': {} },
        },
        editor: { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { 'f:image': {} } } } },
      },
    ],
    [
      'a removed field belongs to no one',
      () => ({ containers: [{ name: 'c', image: 'i' }] }),
      {
        creator: {
          'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        },
        editor: undefined,
      },
    ],
    [
      'an unchanged write records nothing',
      (spec: Record<string, unknown>) => spec,
      {
        creator: {
          'f:spec': {
            'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } },
            'f:nodeName': {},
          },
        },
        editor: undefined,
      },
    ],
  ])('%s', (_name, change, expected) => {
    const created = recordUpdate({
      old: undefined,
      updated: pod({ containers: [{ name: 'c', image: 'i' }], nodeName: 'n1' }),
      manager: 'creator',
      now,
    });
    const spec = (created as unknown as { spec: Record<string, unknown> }).spec;
    const edited = recordUpdate({
      old: created,
      updated: { ...created, spec: change(structuredClone(spec)) } as KubeObject,
      manager: 'editor',
      now,
    });
    const creator = fieldsOfManager(edited, 'creator') as Record<string, unknown>;
    expect(creator['f:spec']).toEqual(expected.creator['f:spec']);
    expect(fieldsOfManager(edited, 'editor')).toEqual(expected.editor);
  });

  it('tracks only status for the status subresource, and never status for the main resource', () => {
    const created = recordUpdate({
      old: undefined,
      updated: pod({ nodeName: 'n1' }, { phase: 'Pending' }),
      manager: 'c',
      now,
    });
    expect(fieldsOfManager(created, 'c')).not.toHaveProperty('f:status');
    const running = recordUpdate({
      old: created,
      updated: { ...created, status: { phase: 'Running', podIP: '10.1.0.5' } } as KubeObject,
      manager: 'node-agent',
      now,
      subresource: 'status',
    });
    const entry = running.metadata?.managedFields?.find((e) => e.manager === 'node-agent');
    expect(entry).toMatchObject({
      operation: 'Update',
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:phase': {}, 'f:podIP': {} } },
    });
  });

  it('records the same ownership whether it carries the read entries or a copy of them', () => {
    const created = recordUpdate({
      old: undefined,
      updated: pod({ nodeName: 'n1' }, { phase: 'Pending' }),
      manager: 'c',
      now,
    });
    const pending = recordUpdate({
      old: created,
      updated: { ...created, status: { phase: 'Pending', hostIP: '10.0.0.1' } } as KubeObject,
      manager: 'node-agent',
      now,
      subresource: 'status',
    });
    const running = { ...pending, status: { phase: 'Running', podIP: '10.1.0.5' } } as KubeObject;
    const copied = JSON.parse(JSON.stringify(running)) as KubeObject;
    const carried = recordUpdate({
      old: pending,
      updated: running,
      manager: 'node-agent',
      now,
      subresource: 'status',
    });
    const fromCopy = recordUpdate({
      old: pending,
      updated: copied,
      manager: 'node-agent',
      now,
      subresource: 'status',
    });
    expect(carried.metadata?.managedFields).toEqual(fromCopy.metadata?.managedFields);
    expect(fieldsOfManager(carried, 'c')).toEqual(fieldsOfManager(created, 'c'));
    expect(carried.metadata?.managedFields?.find((e) => e.manager === 'node-agent')).toMatchObject({
      fieldsV1: { 'f:status': { 'f:phase': {}, 'f:podIP': {} } },
    });
    // The same fields again with other values: the entry keeps its fields, its time moves.
    const later = new Date('2026-11-23T10:05:00.000Z');
    const again = recordUpdate({
      old: carried,
      updated: { ...carried, status: { phase: 'Succeeded', podIP: '10.1.0.6' } } as KubeObject,
      manager: 'node-agent',
      now: later,
      subresource: 'status',
    });
    expect(again.metadata?.managedFields?.find((e) => e.manager === 'node-agent')).toEqual({
      manager: 'node-agent',
      operation: 'Update',
      apiVersion: 'v1',
      time: '2026-11-23T10:05:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { 'f:phase': {}, 'f:podIP': {} } },
      subresource: 'status',
    });
  });

  it('keeps ownership a write worked out itself, as a create by apply does', () => {
    const applied = apply({
      live: undefined,
      applied: deployment({ replicas: 1 }),
      manager: 'ci',
      force: false,
      now,
    }).object;
    const created = recordUpdate({ old: undefined, updated: applied, manager: 'ci', now });
    expect(managers(created)).toEqual(['ci/Apply']);
  });
});

describe('server-side apply: idempotence', () => {
  it('changes nothing, not even the time, when the same configuration is applied again', () => {
    const config = deployment({ replicas: 2, template: template('v1') }, { app: 'web' });
    const first = applyAs('deployer', undefined, config).object;
    const later = apply({
      live: first,
      applied: config,
      manager: 'deployer',
      force: false,
      now: new Date('2026-11-24T00:00:00Z'),
    });
    expect(later.conflicts).toEqual([]);
    expect(later.object).toEqual(first);
  });

  it('moves the time when the configuration changes', () => {
    const first = applyAs('deployer', undefined, deployment({ replicas: 2 })).object;
    const later = apply({
      live: first,
      applied: deployment({ replicas: 3 }),
      manager: 'deployer',
      force: false,
      now: new Date('2026-11-24T00:00:00Z'),
    });
    expect(later.object.metadata?.managedFields?.[0]?.time).toBe('2026-11-24T00:00:00Z');
  });
});

describe('server-side apply to the status subresource', () => {
  it('takes only status, into an entry of its own', () => {
    const created = applyAs('deployer', undefined, deployment({ replicas: 2 })).object;
    const result = apply({
      live: created,
      applied: { ...deployment({ replicas: 9 }), status: { readyReplicas: 2 } } as KubeObject,
      manager: 'controller',
      force: false,
      now,
      subresource: 'status',
    });
    expect(result.conflicts).toEqual([]);
    expect(specOf(result.object).replicas).toBe(2);
    expect((result.object as KubeObject & { status: unknown }).status).toEqual({ readyReplicas: 2 });
    expect(
      result.object.metadata?.managedFields?.find((entry) => entry.manager === 'controller'),
    ).toMatchObject({
      operation: 'Apply',
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:readyReplicas': {} } },
    });
  });
});

describe('FieldsV1 key order', () => {
  it('writes "." first and the rest sorted, as Kubernetes serialises it', () => {
    const encoded = encodeFieldsV1(
      fieldsOf({
        kind: 'Pod',
        object: { spec: { containers: [{ name: 'c', image: 'i', args: ['a'] }], nodeName: 'n' } },
        scope: 'main',
      }),
    );
    const spec = encoded['f:spec'] as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(spec)).toEqual(['f:containers', 'f:nodeName']);
    expect(Object.keys(spec['f:containers']?.['k:{"name":"c"}'] ?? {})).toEqual([
      '.',
      'f:args',
      'f:image',
      'f:name',
    ]);
  });
});

describe('recordUpdate keeps managedFields bounded', () => {
  it('folds the oldest Update entries into one "ancient-changes" beyond ten', () => {
    let object: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: {},
    } as KubeObject;
    for (let writer = 0; writer < 13; writer++) {
      const data = { ...(object as unknown as { data: Record<string, string> }).data, [`k${writer}`]: 'v' };
      object = recordUpdate({
        old: object,
        updated: { ...object, data } as KubeObject,
        manager: `script-${writer}`,
        now: new Date(Date.UTC(2026, 10, 23, 10, writer)),
      });
    }
    const entries = object.metadata?.managedFields ?? [];
    expect(entries).toHaveLength(10);
    expect(entries[0]).toMatchObject({
      manager: 'ancient-changes',
      time: '2026-11-23T10:03:00Z',
      fieldsV1: { 'f:data': { 'f:k0': {}, 'f:k1': {}, 'f:k2': {}, 'f:k3': {} } },
    });
    expect(entries.map((entry) => entry.manager).slice(1)).toEqual(
      Array.from({ length: 9 }, (_, index) => `script-${index + 4}`),
    );
  });
});

describe('recordUpdate of a status write and entries outside status', () => {
  const fieldsOfManager = (object: KubeObject, manager: string) =>
    object.metadata?.managedFields?.find((entry) => entry.manager === manager)?.fieldsV1;

  it('keeps spec owners as stored, and folds them whole when a status writer is the eleventh', () => {
    let object: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'app', image: 'i' }] },
      status: { phase: 'Pending' },
    } as KubeObject;
    for (let writer = 0; writer < 10; writer++) {
      object = recordUpdate({
        old: object,
        updated: {
          ...object,
          metadata: { ...object.metadata, labels: { ...object.metadata?.labels, [`l${writer}`]: 'v' } },
        },
        manager: `labeler-${writer}`,
        now: new Date(Date.UTC(2026, 10, 23, 10, writer)),
      });
    }
    const before = object.metadata?.managedFields ?? [];
    expect(before).toHaveLength(10);
    const written = recordUpdate({
      old: object,
      updated: { ...object, status: { phase: 'Running' } } as KubeObject,
      manager: 'node-agent',
      now: new Date(Date.UTC(2026, 10, 23, 11)),
      subresource: 'status',
    });
    const entries = written.metadata?.managedFields ?? [];
    // Eleven Update entries: the oldest two fold, with the fields they held.
    expect(entries.map((entry) => entry.manager)).toEqual([
      'ancient-changes',
      ...Array.from({ length: 8 }, (_, index) => `labeler-${index + 2}`),
      'node-agent',
    ]);
    expect(entries[0]?.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { '.': {}, 'f:l0': {}, 'f:l1': {} } },
    });
    expect(entries.slice(1, 9)).toEqual(before.slice(2));
    expect(entries[9]).toMatchObject({ subresource: 'status', fieldsV1: { 'f:status': { 'f:phase': {} } } });
  });

  it('takes status fields from another status writer, leaving the spec owner as stored', () => {
    const created = recordUpdate({
      old: undefined,
      updated: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: { containers: [{ name: 'app', image: 'i' }] },
      } as KubeObject,
      manager: 'c',
      now,
    });
    const first = recordUpdate({
      old: created,
      updated: { ...created, status: { phase: 'Pending', message: 'm' } } as KubeObject,
      manager: 'controller',
      now,
      subresource: 'status',
    });
    const second = recordUpdate({
      old: first,
      updated: { ...first, status: { phase: 'Running', message: 'm' } } as KubeObject,
      manager: 'node-agent',
      now,
      subresource: 'status',
    });
    expect(second.metadata?.managedFields?.[0]?.fieldsV1).toBe(
      created.metadata?.managedFields?.[0]?.fieldsV1,
    );
    expect(fieldsOfManager(second, 'controller')).toEqual({ 'f:status': { 'f:message': {} } });
    expect(fieldsOfManager(second, 'node-agent')).toEqual({ 'f:status': { 'f:phase': {} } });
  });
});

describe('recordUpdate and managedFields a client sends back', () => {
  it('records the write when the client echoes the stored ownership with its times reformatted', () => {
    const created = applyAs('deployer', undefined, deployment({ replicas: 1, paused: true })).object;
    const echoed = (created.metadata?.managedFields ?? []).map((entry) => ({
      ...entry,
      time: '2026-11-23T10:00:00.000Z',
    }));
    const updated = {
      ...created,
      metadata: { ...created.metadata, managedFields: echoed },
      spec: { replicas: 4, paused: true },
    } as KubeObject;
    const recorded = recordUpdate({ old: created, updated, manager: 'kubectl-edit', now });
    expect(managers(recorded)).toEqual(['deployer/Apply', 'kubectl-edit/Update']);
  });
});
