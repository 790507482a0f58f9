// Published ports and the NAT around them, behind one interface: nftables where the host has nft,
// iptables (through iptables-restore, one process per change) where it does not.
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Ipv4Subnet } from './ipv4';
import type { PortMapping } from './network.types';

export type FirewallKind = 'nftables' | 'iptables';

export interface PortForwarderOptions {
  /** Our own table (nftables) or chain prefix (iptables), so nothing else on the host is touched. */
  table: string;
  bridge: string;
  subnet: Ipv4Subnet;
  /**
   * The pod range of the whole cluster (every node's subnet, reached through routes to the peers).
   * Containers may reach it and nothing else beyond the host; defaults to the bridge's own subnet.
   */
  clusterCidr?: Ipv4Subnet;
}

export interface PortForwarder {
  readonly kind: FirewallKind;
  /** Installs the base rules (DNAT hooks, masquerade inside the bridge, forward guard) if missing. */
  ensure(): Promise<void>;
  /** Adds the mappings all at once; fails without adding any if a host port is taken. */
  publish(mappings: readonly PortMapping[], containerIp: string): Promise<void>;
  /** Removes the mappings; ones already gone are fine. */
  unpublish(mappings: readonly PortMapping[], containerIp: string): Promise<void>;
  /** The published ports as the firewall lists them, for diagnostics and tests. */
  describe(): Promise<string>;
  /** Removes every rule and chain of ours. */
  remove(): Promise<void>;
}

export async function commandOnPath(command: string): Promise<boolean> {
  const directories = (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter);
  for (const directory of [...directories, '/usr/sbin', '/sbin']) {
    try {
      await access(join(directory, command));
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}
