// What other parts of the agent (the service DNS) read from the service table: a Service's cluster
// IP, its ready endpoints and ports, looked up synchronously at the moment of a query, plus a
// notification when anything changed. The shapes match what the DNS asks for (ClusterNames), so the
// table can be handed to it as is.

export interface ServicePortEntry {
  /** The port's name ("" when the Service has a single unnamed port). */
  name: string;
  /** The service port; for a headless Service the endpoints' port (clients connect to them directly). */
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface ServiceEntry {
  /** The virtual IP; absent for a headless Service. */
  clusterIP?: string;
  /** IPv4 addresses of the ready endpoints. */
  ready: readonly string[];
  ports: readonly ServicePortEntry[];
}

export interface ServiceDirectory {
  /** The Service as this agent knows it now; undefined when it does not exist (or is ExternalName). */
  lookupService(namespace: string, name: string): ServiceEntry | undefined;
  /** Whether any Service exists in the namespace. */
  hasNamespace(namespace: string): boolean;
  /** Calls `listener` after every change to Services or Endpoints; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}
