import type { KubeObject } from '@flotilla/api';
import { decodeFieldsV1, encodeFieldsV1, fieldsOf } from './managed-fields';
import { describeConflicts, recordUpdate, serverSideApply } from './server-side-apply';

const now = new Date('2026-11-23T10:00:00Z');

function deployment(spec: Record<string, unknown>, labels?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'web', ...(labels ? { labels } : {}) },
    spec,
  } as KubeObject;
}

const template = (image: string) => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'app', image }] },
});

function apply(live: KubeObject | undefined, applied: KubeObject, manager = 'flotilla', force = false) {
  return serverSideApply({ kind: 'Deployment', apiVersion: 'apps/v1', live, applied, manager, force, now });
}

function spec(object: KubeObject): Record<string, unknown> {
  return (object as unknown as { spec: Record<string, unknown> }).spec;
}

describe('server-side apply', () => {
  it('lets the autoscaler keep replicas when the manifest stops setting them', () => {
    const created = apply(undefined, deployment({ replicas: 3, template: template('v1') })).object;
    const scaled = recordUpdate({
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      old: created,
      updated: { ...created, spec: { ...spec(created), replicas: 5 } } as KubeObject,
      manager: 'hpa',
      now,
    });
    const reapplied = apply(scaled, deployment({ template: template('v2') }));
    expect(reapplied.conflicts).toEqual([]);
    expect(spec(reapplied.object)['replicas']).toBe(5);
    expect(
      (spec(reapplied.object)['template'] as ReturnType<typeof template>).spec.containers[0]?.image,
    ).toBe('v2');

    const fighting = apply(reapplied.object, deployment({ replicas: 3, template: template('v2') }));
    expect(fighting.conflicts).toEqual([{ manager: 'hpa', field: '.spec.replicas' }]);
    expect(describeConflicts(fighting.conflicts, 'apps/v1')).toBe(
      'Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas',
    );
    const forced = apply(
      reapplied.object,
      deployment({ replicas: 3, template: template('v2') }),
      'flotilla',
      true,
    );
    expect(forced.conflicts).toHaveLength(1);
    expect(spec(forced.object)['replicas']).toBe(3);
    const managers = forced.object.metadata?.managedFields?.map((entry) => entry.manager);
    expect(managers).toEqual(['flotilla']);
  });

  it('removes fields the manager applied before and leaves out now', () => {
    const first = apply(
      undefined,
      deployment({ replicas: 2, paused: true, template: template('v1') }, { a: '1', b: '2' }),
    ).object;
    const second = apply(first, deployment({ replicas: 2, template: template('v1') }, { a: '1' })).object;
    expect(spec(second)['paused']).toBeUndefined();
    expect(second.metadata?.labels).toEqual({ a: '1' });
  });

  it('shares fields set to the same value without conflict', () => {
    const first = apply(undefined, deployment({ replicas: 2, template: template('v1') })).object;
    const other = apply(first, deployment({ replicas: 2 }), 'ci');
    expect(other.conflicts).toEqual([]);
    const dropped = apply(other.object, deployment({ template: template('v1') })).object;
    expect(spec(dropped)['replicas']).toBe(2);
  });

  it('merges keyed lists item by item', () => {
    const first = apply(
      undefined,
      deployment({ template: { spec: { containers: [{ name: 'app', image: 'v1' }] } } }),
    ).object;
    const sidecar = apply(
      first,
      deployment({ template: { spec: { containers: [{ name: 'log', image: 'l1' }] } } }),
      'mesh',
    );
    const containers = (spec(sidecar.object)['template'] as { spec: { containers: Array<{ name: string }> } })
      .spec.containers;
    expect(containers.map((container) => container.name)).toEqual(['app', 'log']);
  });

  it('round-trips field sets through the FieldsV1 encoding', () => {
    const fields = fieldsOf(
      'Deployment',
      deployment({ replicas: 1, template: template('v1') }, { app: 'web' }),
    );
    const encoded = encodeFieldsV1(fields);
    expect(encoded).toMatchObject({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:template': {
          'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        },
      },
    });
    expect(decodeFieldsV1(encoded)).toEqual(fields);
  });
});
