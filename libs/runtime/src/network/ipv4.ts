// IPv4 addresses as 32-bit integers, so subnet arithmetic is exact and never goes through strings.
import { NetworkError } from './network.types';

export interface Ipv4Subnet {
  /** The network address as an unsigned 32-bit integer. */
  network: number;
  prefixLength: number;
}

export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)) {
    throw new NetworkError(`${JSON.stringify(text)} is not an IPv4 address like 10.88.0.1`);
  }
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Parses "10.88.0.0/16"; the address must be the network address itself, so typos do not go unseen. */
export function parseSubnet(text: string): Ipv4Subnet {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  const prefixLength = Number(match?.[2]);
  if (!match?.[1] || prefixLength < 8 || prefixLength > 30) {
    throw new NetworkError(
      `subnet ${JSON.stringify(text)} must look like 10.88.0.0/16, with a prefix from /8 to /30`,
    );
  }
  const network = parseIpv4(match[1]);
  const size = 2 ** (32 - prefixLength);
  if (network % size !== 0) {
    throw new NetworkError(
      `subnet ${text} has host bits set; did you mean ${formatIpv4(network - (network % size))}/${prefixLength}?`,
    );
  }
  return { network, prefixLength };
}

export function subnetSize(subnet: Ipv4Subnet): number {
  return 2 ** (32 - subnet.prefixLength);
}

export function broadcastOf(subnet: Ipv4Subnet): number {
  return subnet.network + subnetSize(subnet) - 1;
}

/** The bridge takes the first host address and is every container's gateway. */
export function gatewayOf(subnet: Ipv4Subnet): number {
  return subnet.network + 1;
}

export function formatSubnet(subnet: Ipv4Subnet): string {
  return `${formatIpv4(subnet.network)}/${subnet.prefixLength}`;
}

export function subnetContains(subnet: Ipv4Subnet, address: number): boolean {
  return address >= subnet.network && address <= broadcastOf(subnet);
}

/** True when inner lies wholly inside outer (equal counts). */
export function subnetWithin(inner: Ipv4Subnet, outer: Ipv4Subnet): boolean {
  return subnetContains(outer, inner.network) && subnetContains(outer, broadcastOf(inner));
}
