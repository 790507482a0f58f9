// The arithmetic of Service cluster IPs and node ports: which addresses and ports a range offers and
// which free one a new Service gets. Kubernetes' ipallocator/portallocator split each range into a
// lower band kept for Services that ask for a fixed value and an upper band that dynamic allocation
// tries first (KEP-3070, KEP-3668), so a fixed IP chosen by hand rarely collides with a random one.
//
// Worked example: 10.96.0.0/28 has 16 addresses; the network (offset 0) and broadcast (offset 15)
// are never handed out, so offsets 1..14 (10.96.0.1-10.96.0.14) are usable. Its lower band is
// min(max(16, 16/16), 256) = 16 addresses, more than the range has, so the band is cut to the
// range's middle (offset 8) and dynamic allocation scans 8..14 first, from a random start, then 1..7.
// Node ports 30000-32767 are 2,768 ports: lower band min(max(16, 2768/32), 128) = 86, so dynamic
// allocation tries 30086-32767 first.

import { formatIpv4, parseIpv4 } from '../net/ipv4.util';

export class AllocationRangeError extends Error {
  override readonly name = 'AllocationRangeError';
}

export interface ServiceIpRange {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  /** Addresses in the range, network and broadcast included. */
  size: number;
  cidr: string;
}

export interface NodePortRange {
  first: number;
  /** Ports in the range. */
  size: number;
  text: string;
}

/**
 * Parses --service-cluster-ip-range. Like kube-apiserver, a range wider than /12 is refused (its
 * allocation map would be unreasonably large) and one narrower than /30 has no usable address.
 */
export function parseServiceIpRange(text: string): ServiceIpRange {
  const [address, bits, ...rest] = text.split('/');
  const base = address === undefined ? undefined : parseIpv4(address);
  const prefix = bits !== undefined && /^\d{1,2}$/.test(bits) ? Number(bits) : Number.NaN;
  if (base === undefined || rest.length > 0 || !(prefix >= 0 && prefix <= 32)) {
    throw new AllocationRangeError(
      `--service-cluster-ip-range "${text}" is not an IPv4 CIDR such as 10.96.0.0/12`,
    );
  }
  if (prefix < 12 || prefix > 30) {
    throw new AllocationRangeError(
      `--service-cluster-ip-range "${text}" must be between /12 and /30 (wider ranges are refused as kube-apiserver does)`,
    );
  }
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) {
    throw new AllocationRangeError(
      `--service-cluster-ip-range "${text}" has host bits set: the network is ${formatIpv4(base - (base % size))}/${prefix}`,
    );
  }
  return { base, size, cidr: `${formatIpv4(base)}/${prefix}` };
}

/** Parses "30000-32767" (or "30000+2767", Kubernetes' base+size spelling). */
export function parseNodePortRange(text: string): NodePortRange {
  const match = /^(\d{1,5})([-+])(\d{1,5})$/.exec(text.trim());
  const first = match ? Number(match[1]) : Number.NaN;
  const second = match ? Number(match[3]) : Number.NaN;
  const last = match?.[2] === '+' ? first + second : second;
  if (!match || first < 1 || last > 65535 || last < first) {
    throw new AllocationRangeError(
      `node port range "${text}" must be FIRST-LAST within 1-65535, e.g. 30000-32767`,
    );
  }
  return { first, size: last - first + 1, text: `${first}-${last}` };
}

/** The offset of `ip` in the range when it can be handed out (not network, not broadcast). */
export function ipOffset(range: ServiceIpRange, ip: string): number | undefined {
  const value = parseIpv4(ip);
  if (value === undefined) return undefined;
  const offset = value - range.base;
  return offset >= 1 && offset <= range.size - 2 ? offset : undefined;
}

export function ipAt(range: ServiceIpRange, offset: number): string {
  return formatIpv4(range.base + offset);
}

export function portOffset(range: NodePortRange, port: number): number | undefined {
  const offset = port - range.first;
  return Number.isInteger(port) && offset >= 0 && offset < range.size ? offset : undefined;
}

/** First offset of the upper band for a range of `usable` values starting at offset `first`. */
export function upperBandStart(options: {
  first: number;
  usable: number;
  divisor: number;
  max: number;
}): number {
  const { first, usable, divisor, max } = options;
  const band = Math.min(Math.max(16, Math.floor(usable / divisor)), max);
  // A range smaller than twice the band keeps half of itself for dynamic allocation.
  return first + Math.min(band, Math.floor(usable / 2));
}

export interface FreeOffsetOptions {
  /** Lowest and highest offset that may be handed out. */
  first: number;
  last: number;
  /** Dynamic allocation scans [upperFrom, last] first, then [first, upperFrom). */
  upperFrom: number;
  taken: ReadonlySet<number>;
  /** A number in [0, 1): where in the upper band the scan starts, so replicas rarely pick alike. */
  random: number;
}

/** A free offset, preferring the upper band from a random start; undefined when all are taken. */
export function freeOffset(options: FreeOffsetOptions): number | undefined {
  const { first, last, taken, random } = options;
  const upperFrom = Math.min(Math.max(options.upperFrom, first), last + 1);
  const upperSize = last - upperFrom + 1;
  if (upperSize > 0) {
    const start = Math.min(Math.floor(random * upperSize), upperSize - 1);
    for (let step = 0; step < upperSize; step++) {
      const offset = upperFrom + ((start + step) % upperSize);
      if (!taken.has(offset)) return offset;
    }
  }
  for (let offset = first; offset < upperFrom; offset++) if (!taken.has(offset)) return offset;
  return undefined;
}
