// Pod ranges carved out of the cluster CIDR, one equal block per node, numbered from the bottom.
//
// Worked example: cluster 10.244.0.0/16 with /24 per node has 2^(24-16) = 256 blocks; block 0 is
// 10.244.0.0/24, block 3 is 10.244.3.0/24, block 255 is 10.244.255.0/24. 10.244.3.0/24 is block 3;
// 10.244.3.128/25 and 10.245.0.0/24 are no block of it. With blocks 0, 1 and 3 taken, the lowest
// free one is 2.

import { formatIpv4, parseIpv4 } from '../net/ipv4.util';

export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefixLength: number;
}

export class CidrError extends Error {
  override readonly name = 'CidrError';
}

/** Parses "a.b.c.d/n"; the address must be the network's own (no host bits set). */
export function parseCidr(text: string): Ipv4Cidr {
  const [address, bits, ...rest] = text.split('/');
  const base = address === undefined ? undefined : parseIpv4(address);
  const prefixLength = bits !== undefined && /^\d{1,2}$/.test(bits) ? Number(bits) : Number.NaN;
  if (base === undefined || rest.length > 0 || !(prefixLength >= 0 && prefixLength <= 32)) {
    throw new CidrError(`"${text}" is not an IPv4 CIDR such as 10.244.0.0/16`);
  }
  if (base % 2 ** (32 - prefixLength) !== 0) {
    throw new CidrError(
      `"${text}" has host bits set: the network is ${formatIpv4(base - (base % 2 ** (32 - prefixLength)))}/${prefixLength}`,
    );
  }
  return { base, prefixLength };
}

export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.base)}/${cidr.prefixLength}`;
}

/** How many node blocks of /nodePrefixLength the cluster range holds. */
export function blockCount(cluster: Ipv4Cidr, nodePrefixLength: number): number {
  if (
    !Number.isInteger(nodePrefixLength) ||
    nodePrefixLength < cluster.prefixLength ||
    nodePrefixLength > 30
  ) {
    throw new CidrError(
      `a node's pod range /${nodePrefixLength} must be no larger than the cluster range /${cluster.prefixLength} and no smaller than /30`,
    );
  }
  return 2 ** (nodePrefixLength - cluster.prefixLength);
}

export function blockAt(cluster: Ipv4Cidr, nodePrefixLength: number, index: number): string {
  const count = blockCount(cluster, nodePrefixLength);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new CidrError(`block ${index} is outside ${formatCidr(cluster)}, which has ${count} blocks`);
  }
  return formatCidr({
    base: cluster.base + index * 2 ** (32 - nodePrefixLength),
    prefixLength: nodePrefixLength,
  });
}

/** The block number of `cidr` in the cluster range, or undefined when it is not exactly one block. */
export function blockIndex(cluster: Ipv4Cidr, nodePrefixLength: number, cidr: string): number | undefined {
  let parsed: Ipv4Cidr;
  try {
    parsed = parseCidr(cidr);
  } catch {
    return undefined;
  }
  if (parsed.prefixLength !== nodePrefixLength) return undefined;
  const offset = parsed.base - cluster.base;
  const size = 2 ** (32 - nodePrefixLength);
  if (offset < 0 || offset >= blockCount(cluster, nodePrefixLength) * size) return undefined;
  return offset / size;
}

/** The lowest block number not in `taken`, or undefined when all `count` are taken. */
export function lowestFreeBlock(count: number, taken: ReadonlySet<number>): number | undefined {
  for (let index = 0; index < count; index++) if (!taken.has(index)) return index;
  return undefined;
}
