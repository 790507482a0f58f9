// The node LAN's addresses. Every cluster of node hosts gets one /24 "block" of 172.31.0.0/16: the host
// holds .1 on the LAN bridge (the nodes' gateway, where the control plane listens), node i (0-based)
// holds .(i + 2). Worked example: block 7 → subnet 172.31.7.0/24, gateway 172.31.7.1, nodes
// 172.31.7.2, 172.31.7.3, ...; a host that already has 172.31.7.5/24 on some link has block 7 taken.

export const LAN_SUPERNET_OCTETS = [172, 31] as const;
export const LAN_PREFIX_LENGTH = 24;
/** .0 is the network, .1 the host, .255 broadcast. */
export const MAX_NODES_PER_LAN = 253;
const BLOCKS = 256;

export function lanSubnet(block: number): string {
  return `${lanBase(block)}.0/${LAN_PREFIX_LENGTH}`;
}

export function lanGateway(block: number): string {
  return `${lanBase(block)}.1`;
}

export function lanNodeAddress(block: number, nodeIndex: number): string {
  if (!Number.isInteger(nodeIndex) || nodeIndex < 0 || nodeIndex >= MAX_NODES_PER_LAN) {
    throw new RangeError(`node index ${nodeIndex} must be an integer from 0 to ${MAX_NODES_PER_LAN - 1}`);
  }
  return `${lanBase(block)}.${nodeIndex + 2}`;
}

/** The node index an address of the block stands for, or undefined when it is no node's address. */
export function lanNodeIndex(block: number, address: string): number | undefined {
  const prefix = `${lanBase(block)}.`;
  if (!address.startsWith(prefix)) return undefined;
  const last = Number(address.slice(prefix.length));
  if (!Number.isInteger(last) || last < 2 || last > MAX_NODES_PER_LAN + 1) return undefined;
  return last - 2;
}

function lanBase(block: number): string {
  if (!Number.isInteger(block) || block < 0 || block >= BLOCKS) {
    throw new RangeError(`LAN block ${block} must be an integer from 0 to ${BLOCKS - 1}`);
  }
  return `${LAN_SUPERNET_OCTETS[0]}.${LAN_SUPERNET_OCTETS[1]}.${block}`;
}

/**
 * The blocks that addresses and routes already on the host overlap ("10.0.0.5/8", "172.31.4.0/22"),
 * so a new LAN never shadows or duplicates one. Default routes (prefix 0) overlap nothing on purpose:
 * a more specific LAN route is exactly what should win over them.
 */
export function blocksTakenBy(cidrs: readonly string[]): Set<number> {
  const taken = new Set<number>();
  for (const cidr of cidrs) {
    const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(cidr.trim());
    if (!match) continue;
    const octets = match.slice(1, 5).map(Number);
    const prefix = match[5] === undefined ? 32 : Number(match[5]);
    if (prefix === 0 || octets.some((octet) => octet > 255) || prefix > 32) continue;
    const [a = 0, b = 0, c = 0] = octets;
    if (prefix <= 16) {
      // A wide route covers all of 172.31 when its network part matches ours.
      const value = a * 2 ** 24 + b * 2 ** 16;
      const ours = LAN_SUPERNET_OCTETS[0] * 2 ** 24 + LAN_SUPERNET_OCTETS[1] * 2 ** 16;
      const size = 2 ** (32 - prefix);
      if (Math.floor(value / size) === Math.floor(ours / size)) for (let n = 0; n < BLOCKS; n++) taken.add(n);
      continue;
    }
    if (a !== LAN_SUPERNET_OCTETS[0] || b !== LAN_SUPERNET_OCTETS[1]) continue;
    const span = prefix >= LAN_PREFIX_LENGTH ? 1 : 2 ** (LAN_PREFIX_LENGTH - prefix);
    const first = c - (c % span);
    for (let n = first; n < first + span; n++) taken.add(n);
  }
  return taken;
}

/** The first block from `preferred` on (wrapping around) that is not taken, or undefined when all are. */
export function pickLanBlock(options: { preferred: number; taken: ReadonlySet<number> }): number | undefined {
  const start = ((Math.floor(options.preferred) % BLOCKS) + BLOCKS) % BLOCKS;
  for (let step = 0; step < BLOCKS; step++) {
    const block = (start + step) % BLOCKS;
    if (!options.taken.has(block)) return block;
  }
  return undefined;
}
