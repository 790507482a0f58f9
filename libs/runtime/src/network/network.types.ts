// Container networking as the runtime sees it: a per-host bridge network, and per container either its
// own network namespace on that bridge, a namespace with only loopback, or the host's own network.

/** `--network`: bridge (own namespace, veth, IP), none (own namespace, loopback only), host (no namespace). */
export type NetworkMode = 'bridge' | 'none' | 'host';

export type PortProtocol = 'tcp' | 'udp';

/** `-p [[hostIp:][hostPort]:]containerPort[/protocol]`. */
export interface PortMapping {
  /** The host's IPv4 address the port is published on; absent: every address of the host. */
  hostIp?: string;
  /** 0: a free port, chosen when published (`-p 80`, `-p 127.0.0.1::80`, `-P`). */
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
}

/** What attach did for one container; persisted so any process can detach it later. */
export interface NetworkAttachment {
  containerId: string;
  mode: NetworkMode;
  /** The bridge network's name, for bridge mode. */
  network?: string;
  /** The named namespace (/var/run/netns/<name>); absent in host mode. */
  namespaceName?: string;
  /** The path the shim joins with setns(2); absent in host mode, where the shim stays in the host's. */
  namespacePath?: string;
  /** The container's address on the bridge, its prefix length and gateway (the bridge's address). */
  ipAddress?: string;
  prefixLength?: number;
  gateway?: string;
  /** The host end of the veth pair, enslaved to the bridge. */
  hostVeth?: string;
  /** Published ports, removed with the container. */
  ports: PortMapping[];
}

/** A pod namespace's side of its bridge attachment. */
export interface NamespaceInterfaceSetup {
  /** The namespace to configure (/var/run/netns/NAME). */
  namespacePath: string;
  /** The veth's end inside it (eth0). */
  device: string;
  address: string;
  prefixLength: number;
  gateway: string;
}

/**
 * Configures a namespace from inside it: loopback up, the address on the device, the device up, the
 * default route via the gateway. Rejects with a NetworkError naming the step that failed.
 */
export interface NamespaceConfigurator {
  configureInterface(setup: NamespaceInterfaceSetup): Promise<void>;
}

/** Every network failure; the message says which step failed and what to do next. */
export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}
