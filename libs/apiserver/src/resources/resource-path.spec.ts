import { resolveResourcePath } from './resource-path';

function describeResolution(group: string, version: string, path: string): string {
  const resolution = resolveResourcePath(
    group,
    version,
    path.split('/').filter((s) => s !== ''),
  );
  if (resolution.kind === 'not-found') return `404: ${resolution.reason}`;
  const { type, namespace, name, subresource } = resolution.target;
  return [type.kind, namespace ?? '-', name ?? '-', subresource ?? '-'].join(' ');
}

describe('resolveResourcePath', () => {
  it.each([
    ['', 'v1', 'pods', 'Pod - - -'],
    ['', 'v1', 'namespaces/default/pods', 'Pod default - -'],
    ['', 'v1', 'namespaces/default/pods/web', 'Pod default web -'],
    ['', 'v1', 'namespaces/default/pods/web/status', 'Pod default web status'],
    ['', 'v1', 'namespaces/default/pods/web/binding', 'Pod default web binding'],
    ['', 'v1', 'namespaces', 'Namespace - - -'],
    ['', 'v1', 'namespaces/default', 'Namespace - default -'],
    ['', 'v1', 'namespaces/default/status', 'Namespace - default status'],
    ['', 'v1', 'namespaces/default/finalize', 'Namespace - default status'],
    ['', 'v1', 'nodes/n1/status', 'Node - n1 status'],
    ['apps', 'v1', 'namespaces/web/deployments/web/scale', 'Deployment web web scale'],
    ['apps', 'v1', 'deployments', 'Deployment - - -'],
    [
      '',
      'v1',
      'namespaces/default/deployments',
      '404: the server doesn\'t have a resource type "deployments"',
    ],
    ['', 'v1', 'pods/web', '404: pods is namespaced: use /namespaces/NAMESPACE/pods/web'],
    ['', 'v1', 'namespaces/default/nodes', '404: nodes is not namespaced'],
    ['', 'v1', 'namespaces/default/pods/web/scale', '404: pods has no subresource "scale"'],
    ['', 'v1', 'namespaces/default/pods/web/status/extra', '404: too many path segments'],
    ['apps', 'v2', 'deployments', '404: no API group-version apps/v2'],
  ])('%s/%s %s → %s', (group, version, path, expected) => {
    expect(describeResolution(group, version, path)).toBe(expected);
  });
});
