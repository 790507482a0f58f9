// Port forwarding with nftables: the table from nft-ruleset.ts, ports as map elements.
import { runChecked, runCommand } from './command-runner';
import { NetworkError, type PortMapping } from './network.types';
import {
  ADDRESS_PORTS_MAP,
  addPortsCommand,
  addressPortsUpgrade,
  bridgeRuleset,
  replyForwardUpgrade,
  deletePortsCommand,
  PORTS_MAP,
} from './nft-ruleset';
import type { PortForwarder, PortForwarderOptions } from './port-forwarder';
import { formatPortMapping, portsOverlap } from './port-mapping';

/** The published ports in `nft list map` output of either map (address-bound ones lead with the address). */
export function parsePublishedElements(listing: string): PortMapping[] {
  const mappings: PortMapping[] = [];
  const element = /(?:(\d+\.\d+\.\d+\.\d+) \. )?(tcp|udp) \. (\d+) : \d+\.\d+\.\d+\.\d+ \. (\d+)/g;
  for (const match of listing.matchAll(element)) {
    mappings.push({
      ...(match[1] === undefined ? {} : { hostIp: match[1] }),
      protocol: match[2] === 'udp' ? 'udp' : 'tcp',
      hostPort: Number(match[3]),
      containerPort: Number(match[4]),
    });
  }
  return mappings;
}

export class NftablesForwarder implements PortForwarder {
  readonly kind = 'nftables' as const;

  constructor(private readonly options: PortForwarderOptions) {}

  async ensure(): Promise<void> {
    const existing = await runCommand('nft', ['list', 'table', 'ip', this.options.table]);
    if (existing.exitCode === 0) {
      if (!existing.stdout.includes('ct direction reply')) {
        await runChecked(
          `letting replies out of nftables table ${this.options.table}`,
          'nft',
          ['-f', '-'],
          replyForwardUpgrade(this.options.table, this.options.bridge),
        );
      }
      if (!existing.stdout.includes(ADDRESS_PORTS_MAP)) {
        await runChecked(
          `adding address-bound ports to nftables table ${this.options.table}`,
          'nft',
          ['-f', '-'],
          addressPortsUpgrade(this.options.table),
        );
      }
      return;
    }
    await runChecked(
      `creating nftables table ${this.options.table}`,
      'nft',
      ['-f', '-'],
      bridgeRuleset(this.options),
    );
  }

  async publish(mappings: readonly PortMapping[], containerIp: string): Promise<void> {
    if (mappings.length === 0) return;
    // Each map refuses its own duplicates; a port taken on every address and on one address sit in
    // different maps, so that overlap is checked here.
    const taken = parsePublishedElements(await this.describe());
    for (const mapping of mappings) {
      const clash = taken.find(
        (other) =>
          portsOverlap(other, mapping) && (other.hostIp === undefined) !== (mapping.hostIp === undefined),
      );
      if (clash !== undefined) {
        throw new NetworkError(
          `host port ${formatPortMapping(mapping)} overlaps ${formatPortMapping(clash)}, already published by another container; pick a free host port`,
        );
      }
    }
    const result = await runCommand(
      'nft',
      ['-f', '-'],
      addPortsCommand(this.options.table, mappings, containerIp),
    );
    if (result.exitCode !== 0) {
      throw new NetworkError(
        /File exists/.test(result.stderr)
          ? `host port(s) ${mappings.map(formatPortMapping).join(', ')}: one is already published by another container; pick a free host port`
          : `publishing ${mappings.map(formatPortMapping).join(', ')} failed: ${result.stderr.trim()}`,
      );
    }
  }

  async unpublish(mappings: readonly PortMapping[]): Promise<void> {
    if (mappings.length === 0) return;
    const batch = await runCommand('nft', ['-f', '-'], deletePortsCommand(this.options.table, mappings));
    if (batch.exitCode === 0) return;
    // One element already gone fails the whole transaction: retry one by one, tolerating the gone.
    for (const mapping of mappings) {
      const single = await runCommand('nft', ['-f', '-'], deletePortsCommand(this.options.table, [mapping]));
      if (single.exitCode !== 0 && !/No such file or directory/.test(single.stderr)) {
        throw new NetworkError(`unpublishing ${formatPortMapping(mapping)} failed: ${single.stderr.trim()}`);
      }
    }
  }

  async describe(): Promise<string> {
    const maps = await Promise.all(
      [PORTS_MAP, ADDRESS_PORTS_MAP].map((map) =>
        runChecked('listing published ports', 'nft', ['list', 'map', 'ip', this.options.table, map]),
      ),
    );
    return maps.join('');
  }

  async remove(): Promise<void> {
    const result = await runCommand('nft', ['delete', 'table', 'ip', this.options.table]);
    if (
      result.exitCode !== 0 &&
      (await runCommand('nft', ['list', 'table', 'ip', this.options.table])).exitCode === 0
    ) {
      throw new NetworkError(`deleting nftables table ${this.options.table} failed: ${result.stderr.trim()}`);
    }
  }
}
