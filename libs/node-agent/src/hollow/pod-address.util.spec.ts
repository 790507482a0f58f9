import { podAddress, podAddressCount } from './pod-address.util';

describe('podAddressCount', () => {
  it.each([
    ['10.244.3.0/24', 253],
    ['10.244.0.0/16', 65533],
    ['10.244.3.0/30', 1],
    ['10.244.3.0/31', 0],
    ['10.244.3.1/32', 0],
  ])('%s → %d', (cidr, expected) => {
    expect(podAddressCount(cidr)).toBe(expected);
  });
});

describe('podAddress', () => {
  it.each<[string, number, string | undefined]>([
    ['10.244.3.0/24', 0, '10.244.3.2'],
    ['10.244.3.0/24', 252, '10.244.3.254'],
    ['10.244.3.0/24', 253, undefined],
    ['10.244.3.0/24', -1, undefined],
    ['10.244.3.0/24', 1.5, undefined],
    ['10.244.0.0/16', 254, '10.244.1.0'],
    // A range given with host bits set still starts at its network address.
    ['10.244.3.77/24', 0, '10.244.3.2'],
    ['100.64.255.0/24', 10, '100.64.255.12'],
    ['192.168.0.0/30', 0, '192.168.0.2'],
  ])('%s slot %d → %s', (cidr, slot, expected) => {
    expect(podAddress(cidr, slot)).toBe(expected);
  });

  it.each(['10.244.3.0', '10.244.300.0/24', '10.244.3.0/33', 'fd00::/64'])(
    'refuses %s and says what it wants',
    (cidr) => {
      expect(() => podAddress(cidr, 0)).toThrow(/is not an IPv4 range like 10\.244\.3\.0\/24/);
    },
  );
});
