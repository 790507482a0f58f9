// Port forwarding with nftables: the table from nft-ruleset.ts, ports as map elements.
import { runChecked, runCommand } from './command-runner';
import { NetworkError, type PortMapping } from './network.types';
import { addPortsCommand, bridgeRuleset, deletePortsCommand, PORTS_MAP } from './nft-ruleset';
import type { PortForwarder, PortForwarderOptions } from './port-forwarder';
import { formatPortMapping } from './port-mapping';

export class NftablesForwarder implements PortForwarder {
  readonly kind = 'nftables' as const;

  constructor(private readonly options: PortForwarderOptions) {}

  async ensure(): Promise<void> {
    const existing = await runCommand('nft', ['list', 'table', 'ip', this.options.table]);
    if (existing.exitCode === 0) return;
    await runChecked(
      `creating nftables table ${this.options.table}`,
      'nft',
      ['-f', '-'],
      bridgeRuleset(this.options),
    );
  }

  async publish(mappings: readonly PortMapping[], containerIp: string): Promise<void> {
    if (mappings.length === 0) return;
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

  describe(): Promise<string> {
    return runChecked('listing published ports', 'nft', ['list', 'map', 'ip', this.options.table, PORTS_MAP]);
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
