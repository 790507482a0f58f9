// Dotted-quad IPv4 addresses as unsigned 32-bit numbers, shared by the pod-range and the Service IP
// allocators. Leading zeros are refused ("10.96.0.010"), as Kubernetes and Go's parser refuse them:
// some tools read them as octal, so such an address would not mean one thing.

/** "10.96.0.1" → 174063617; undefined for anything that is not a plain dotted quad. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255 || (part.length > 1 && part.startsWith('0')))
      return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
