// kubectl's kubeconfig format (clientcmd/api/v1), the subset Flotilla reads and writes. Field names are
// kubectl's own so that one file serves both `flotilla` and `kubectl --kubeconfig`.

export interface KubeconfigCluster {
  server: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}

export interface KubeconfigUser {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
}

export interface KubeconfigContext {
  cluster: string;
  user: string;
  namespace?: string;
}

export interface NamedCluster {
  name: string;
  cluster: KubeconfigCluster;
}

export interface NamedUser {
  name: string;
  user: KubeconfigUser;
}

export interface NamedContext {
  name: string;
  context: KubeconfigContext;
}

export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: NamedCluster[];
  users: NamedUser[];
  contexts: NamedContext[];
  'current-context'?: string;
  preferences?: Record<string, unknown>;
}

/** Everything a client needs to reach one apiserver as one user, with files already read. */
export interface ConnectionConfig {
  readonly server: string;
  /** PEM bundle to trust instead of the system roots. */
  readonly ca?: Buffer;
  readonly insecureSkipTlsVerify?: boolean;
  readonly tlsServerName?: string;
  readonly token?: string;
  readonly clientCertificate?: Buffer;
  readonly clientKey?: Buffer;
  /** The context's namespace, or "default". */
  readonly namespace: string;
  readonly contextName?: string;
}
