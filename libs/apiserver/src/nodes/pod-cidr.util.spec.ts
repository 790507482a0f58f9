import { CidrError, blockAt, blockCount, blockIndex, lowestFreeBlock, parseCidr } from './pod-cidr.util';

describe('pod CIDR blocks', () => {
  const cluster = parseCidr('10.244.0.0/16');

  it.each([
    ['10.244.0.0/16', 24, 256],
    ['10.244.0.0/16', 16, 1],
    ['10.0.0.0/8', 24, 65536],
    ['192.168.0.0/24', 26, 4],
  ])('%s holds %s-bit blocks: %s of them', (text, prefix, count) => {
    expect(blockCount(parseCidr(text), prefix)).toBe(count);
  });

  it.each([
    [0, '10.244.0.0/24'],
    [3, '10.244.3.0/24'],
    [255, '10.244.255.0/24'],
  ])('block %s is %s and back', (index, cidr) => {
    expect(blockAt(cluster, 24, index)).toBe(cidr);
    expect(blockIndex(cluster, 24, cidr)).toBe(index);
  });

  it.each(['10.244.3.128/25', '10.245.0.0/24', '10.243.255.0/24', 'nonsense', '10.244.3.1/24'])(
    '%s is no block of 10.244.0.0/16',
    (cidr) => {
      expect(blockIndex(cluster, 24, cidr)).toBeUndefined();
    },
  );

  it.each([
    [4, [], 0],
    [4, [0, 1, 3], 2],
    [4, [1], 0],
    [4, [0, 1, 2, 3], undefined],
  ])('with %s blocks and %j taken the lowest free is %s', (count, taken, expected) => {
    expect(lowestFreeBlock(count, new Set(taken))).toBe(expected);
  });

  it.each([
    ['10.244.0.0', 'not an IPv4 CIDR'],
    ['10.244.0.0/33', 'not an IPv4 CIDR'],
    ['10.256.0.0/16', 'not an IPv4 CIDR'],
    ['10.244.1.0/16', 'host bits set: the network is 10.244.0.0/16'],
  ])('rejects %s (%s)', (text, message) => {
    expect(() => parseCidr(text)).toThrow(CidrError);
    expect(() => parseCidr(text)).toThrow(message);
  });

  it('refuses node blocks larger than the cluster range', () => {
    expect(() => blockCount(cluster, 8)).toThrow('no larger than the cluster range /16');
  });
});
