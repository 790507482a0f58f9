// ClusterNames over the Service and Endpoints objects the agent keeps for its service rules: the
// DNS reads the same objects the node's kernel rules are made from, at the moment of each query.
import type { Endpoints, Service } from '@flotilla/api';
import type { ClusterNames } from './cluster-names.types';
import { serviceNamesOf } from './service-names.util';

/** The read side of the agent's service table that the DNS needs. */
export interface ServiceObjectsView {
  service(namespace: string, name: string): Service | undefined;
  endpoints(namespace: string, name: string): Endpoints | undefined;
  /** Whether any Service exists in the namespace. */
  hasServices(namespace: string): boolean;
}

export function clusterNamesOf(view: ServiceObjectsView): ClusterNames {
  return {
    lookupService: (namespace, name) => {
      const service = view.service(namespace, name);
      return service === undefined ? undefined : serviceNamesOf(service, view.endpoints(namespace, name));
    },
    hasNamespace: (namespace) => view.hasServices(namespace),
  };
}
