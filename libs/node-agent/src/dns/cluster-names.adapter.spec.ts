import type { Endpoints, Service } from '@flotilla/api';
import { clusterNamesOf, type ServiceObjectsView } from './cluster-names.adapter';

describe('clusterNamesOf', () => {
  const services = new Map<string, Service>();
  const endpoints = new Map<string, Endpoints>();
  const view: ServiceObjectsView = {
    service: (namespace, name) => services.get(`${namespace}/${name}`),
    endpoints: (namespace, name) => endpoints.get(`${namespace}/${name}`),
    hasServices: (namespace) => [...services.keys()].some((key) => key.startsWith(`${namespace}/`)),
  };
  const names = clusterNamesOf(view);

  it('answers from the objects as they are at the moment of the lookup', () => {
    expect(names.lookupService('shop', 'web')).toBeUndefined();
    expect(names.hasNamespace('shop')).toBe(false);
    services.set('shop/web', { metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: 'None' } });
    expect(names.lookupService('shop', 'web')).toEqual({ ready: [], ports: [] });
    endpoints.set('shop/web', {
      metadata: { name: 'web', namespace: 'shop' },
      subsets: [{ addresses: [{ ip: '10.88.1.5' }] }],
    });
    expect(names.lookupService('shop', 'web')).toEqual({ ready: ['10.88.1.5'], ports: [] });
    expect(names.hasNamespace('shop')).toBe(true);
    services.delete('shop/web');
    expect(names.lookupService('shop', 'web')).toBeUndefined();
  });
});
