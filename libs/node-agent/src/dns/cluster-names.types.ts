// What the cluster DNS reads: the Services and their ready endpoints as this node's agent knows them.
// The agent's ServiceTable (services/service-table.ts, fed Services and Endpoints over the node
// stream for the kernel rules) has exactly this shape and is handed to the server as is; tests
// implement it in memory. Lookups are synchronous and cheap because every
// query asks one, and the answer must reflect the table at that moment, not a copy from earlier.

export interface ServicePortName {
  /** The port's name ("http"); SRV records exist only for named ports. */
  name: string;
  /**
   * The service port for a ClusterIP service; for a headless one the endpoints' port, since clients
   * connect to the endpoints directly.
   */
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  /**
   * Headless only: the endpoints that serve this port number (default every ready one). A named
   * target port may resolve to different numbers on different pods; each number is then its own
   * entry, so an SRV record never pairs an endpoint with another pod's port.
   */
  addresses?: readonly string[];
}

export interface ServiceNames {
  /** The virtual IP; absent (or "None") for a headless service, whose name lists its endpoints. */
  clusterIP?: string;
  /** IPv4 addresses of the ready endpoints. */
  ready: readonly string[];
  ports: readonly ServicePortName[];
}

export interface ClusterNames {
  lookupService(namespace: string, name: string): ServiceNames | undefined;
  /**
   * Whether any service exists in the namespace: "NAMESPACE.svc.cluster.local" then exists as a
   * name without records (NODATA) rather than not at all (NXDOMAIN), which RFC 8020 lets caches
   * read as "nothing below exists".
   */
  hasNamespace(namespace: string): boolean;
}
