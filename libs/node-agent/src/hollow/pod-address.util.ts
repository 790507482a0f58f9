// The address a hollow pod reports, taken from its node's pod range as the real engine takes one from
// its bridge's: the network and the first host address (the bridge's) are skipped, and so is the
// broadcast address, so a hollow status looks like a real one to anything that parses podIP.
//
// Worked example: range 10.244.3.0/24 holds 256 addresses; slot 0 is 10.244.3.2 (.0 is the network,
// .1 the bridge), slot 252 is 10.244.3.254, and slot 253 would be the broadcast .255: none.

/** How many pod addresses a range holds (0 for a range too small to hold any). */
export function podAddressCount(cidr: string): number {
  const { prefix } = parseRange(cidr);
  return Math.max(0, 2 ** (32 - prefix) - 3);
}

/** The pod address in `slot` (from 0) of `cidr`, or undefined past the end of the range. */
export function podAddress(cidr: string, slot: number): string | undefined {
  const { base, prefix } = parseRange(cidr);
  if (!Number.isInteger(slot) || slot < 0 || slot >= podAddressCount(cidr)) return undefined;
  const hostBits = 32 - prefix;
  const network = hostBits === 32 ? 0 : (base >>> hostBits) << hostBits;
  const address = (network >>> 0) + 2 + slot;
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 255).join('.');
}

function parseRange(cidr: string): { base: number; prefix: number } {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match ? match.slice(1, 5).map(Number) : [];
  const prefix = Number(match?.[5]);
  if (!match || octets.some((octet) => octet > 255) || prefix > 32) {
    throw new Error(
      `"${cidr}" is not an IPv4 range like 10.244.3.0/24: pass the pod CIDR the node registered with`,
    );
  }
  const base = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  return { base, prefix };
}
