import { resolveResourceName, type KubeObject, type ResourceType } from '@flotilla/api';
import { formatObjects } from './object.printer';

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no type ${name}`);
  return found;
}

// The object printer only reads identity: a name and a namespace are all an object needs here.
function object(kind: string, name: string): KubeObject {
  return { apiVersion: 'v1', kind, metadata: { name, namespace: 'default' } };
}

describe('object output', () => {
  const deployment = {
    type: type('deploy'),
    object: { ...object('Deployment', 'web'), apiVersion: '', kind: '' },
  };

  it('prints names as resource.group/name', () => {
    expect(
      formatObjects([deployment, { type: type('po'), object: object('Pod', 'p') }], 'name', { asList: true }),
    ).toBe('deployment.apps/web\npod/p\n');
  });

  it('fills kind and apiVersion, and wraps several objects in a List', () => {
    expect(formatObjects([deployment], 'yaml', { asList: false })).toMatch(
      /^apiVersion: apps\/v1\nkind: Deployment\n/,
    );
    const list = JSON.parse(formatObjects([deployment], 'json', { asList: true })) as {
      kind: string;
      items: KubeObject[];
    };
    expect(list.kind).toBe('List');
    expect(list.items[0]?.kind).toBe('Deployment');
  });
});
