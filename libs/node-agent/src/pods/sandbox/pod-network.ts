// The pod's network sandbox: one network namespace per pod on the node's bridge, with an address from
// the node's pod CIDR, which every container of the pod joins (so they share localhost and ports, as
// containers of a Kubernetes pod do). The ContainerManager asks its NetworkAttacher per container;
// this attacher answers with the namespace of the container's pod instead of making a new one.
import {
  BridgeNetwork,
  type AttachedNetwork,
  type ContainerNetworkMode,
  type NamespaceConfigurator,
  type NetworkAttacher,
  type PortMapping,
} from '@flotilla/runtime';
import type { SandboxRecord } from '../pod-state.store';

export interface PodNetworkOptions {
  stateDir: string;
  podCidr: string;
  bridgeName: string;
  /** The network's name in the state dir (default: the bridge's name). */
  networkName?: string;
  /** nftables table (or iptables chain prefix) for hostPorts (default: derived from the bridge). */
  firewallTable?: string;
  clusterCidr?: string;
  mtu?: number;
  /** Configures each pod's namespace from inside (the engine shares its shim launcher). */
  namespaceConfigurator?: NamespaceConfigurator;
}

/**
 * 33 attaches at once (one node's share of bench/pod-startup) on this 2-core host at load 6: the last
 * done after 89-104 ms with one ip process, 90-97 ms with four (the kernel serialises most of an
 * attach under rtnl). Four helped only while each attach also forked and exec'd an ip inside the
 * namespace; now they would only add spawns, each blocking the agent's event loop, to every burst.
 */
const POD_NETWORK_IP_PROCESSES = 1;

function attachmentIdOf(uid: string): string {
  return `pod-${uid}`;
}

export class PodNetwork implements NetworkAttacher {
  readonly bridge: BridgeNetwork;
  /** Which pod sandbox each container of ours joins. */
  private readonly sandboxes = new Map<string, AttachedNetwork>();

  constructor(options: PodNetworkOptions) {
    this.bridge = new BridgeNetwork({
      stateDir: options.stateDir,
      name: options.networkName ?? options.bridgeName,
      bridge: options.bridgeName,
      subnet: options.podCidr,
      table: options.firewallTable ?? `flotilla_${options.bridgeName.replace(/[^A-Za-z0-9_]/g, '_')}`,
      ...(options.clusterCidr !== undefined ? { clusterCidr: options.clusterCidr } : {}),
      ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
      ...(options.namespaceConfigurator !== undefined
        ? { namespaceConfigurator: options.namespaceConfigurator }
        : {}),
      // The agent sets up a sandbox per pod, often dozens at once: a kept ip process for the burst.
      persistentIp: true,
      ipProcesses: POD_NETWORK_IP_PROCESSES,
    });
  }

  /** Creates the pod's namespace (or finds the one a previous engine made). */
  async setUp(uid: string, hostPorts: readonly PortMapping[]): Promise<SandboxRecord> {
    const attachmentId = attachmentIdOf(uid);
    // One lookup by key: scanning every attachment made each set-up cost O(pods on the node).
    const existing = await this.bridge.attachment(attachmentId);
    const attachment =
      existing ??
      (await this.bridge.attach({
        containerId: attachmentId,
        mode: 'bridge',
        namespaceName: `flotilla-${attachmentId}`.slice(0, 63),
        ports: hostPorts,
      }));
    if (attachment.namespacePath === undefined || attachment.ipAddress === undefined) {
      throw new Error(`the bridge network gave pod ${uid} no namespace or address`);
    }
    return {
      hostNetwork: false,
      attachmentId,
      namespacePath: attachment.namespacePath,
      ip: attachment.ipAddress,
    };
  }

  async tearDown(sandbox: SandboxRecord): Promise<void> {
    if (sandbox.attachmentId !== undefined) await this.bridge.detach(sandbox.attachmentId);
  }

  /** The container will join this sandbox when the manager starts it. */
  register(containerId: string, sandbox: SandboxRecord): void {
    this.sandboxes.set(
      containerId,
      sandbox.hostNetwork || sandbox.namespacePath === undefined
        ? { mode: 'host' }
        : {
            mode: 'bridge',
            namespacePath: sandbox.namespacePath,
            ...(sandbox.ip !== undefined ? { ipAddress: sandbox.ip } : {}),
          },
    );
  }

  forget(containerId: string): void {
    this.sandboxes.delete(containerId);
  }

  async attach(request: { containerId: string; mode: ContainerNetworkMode }): Promise<AttachedNetwork> {
    const sandbox = this.sandboxes.get(request.containerId);
    if (sandbox === undefined) {
      throw new Error(
        `container ${request.containerId.slice(0, 12)} belongs to no pod sandbox of this node agent; pod containers are started by the agent only`,
      );
    }
    return sandbox;
  }

  /** The namespace belongs to the pod and outlives each container; tearDown removes it. */
  async detach(containerId: string): Promise<void> {
    this.sandboxes.delete(containerId);
  }
}
