import { resolveResourceName, type ResourceType } from '@flotilla/api';
import { resourcePath, withQuery } from './resource-path';

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no resource type ${name}`);
  return found;
}

describe('resourcePath', () => {
  it('lays out core, grouped, namespaced and cluster-scoped paths as Kubernetes does', () => {
    expect(resourcePath(type('po'), { namespace: 'default', name: 'web', subresource: 'status' })).toBe(
      '/api/v1/namespaces/default/pods/web/status',
    );
    expect(resourcePath(type('deploy'), { namespace: 'shop' })).toBe(
      '/apis/apps/v1/namespaces/shop/deployments',
    );
    expect(resourcePath(type('deploy'))).toBe('/apis/apps/v1/deployments');
    expect(resourcePath(type('nodes'), { namespace: 'ignored', name: 'n1' })).toBe('/api/v1/nodes/n1');
    expect(resourcePath(type('hpa'), { namespace: 'a' })).toBe(
      '/apis/autoscaling/v2/namespaces/a/horizontalpodautoscalers',
    );
  });

  it('refuses a named namespaced object without a namespace', () => {
    expect(() => resourcePath(type('svc'), { name: 'web' })).toThrow('services are namespaced');
  });

  it('encodes query values and drops the unset ones', () => {
    expect(withQuery('/api/v1/pods', { labelSelector: 'app in (a,b)', limit: 5, continue: undefined })).toBe(
      '/api/v1/pods?labelSelector=app+in+%28a%2Cb%29&limit=5',
    );
    expect(withQuery('/api/v1/pods', {})).toBe('/api/v1/pods');
  });
});
