import {
  blocksTakenBy,
  lanGateway,
  lanNodeAddress,
  lanNodeIndex,
  lanSubnet,
  pickLanBlock,
} from './lan-addressing.util';

describe('node LAN addressing', () => {
  it.each([
    [0, '172.31.0.0/24', '172.31.0.1'],
    [7, '172.31.7.0/24', '172.31.7.1'],
    [255, '172.31.255.0/24', '172.31.255.1'],
  ])('block %i is %s with the host on %s', (block, subnet, gateway) => {
    expect(lanSubnet(block)).toBe(subnet);
    expect(lanGateway(block)).toBe(gateway);
  });

  it.each([
    [7, 0, '172.31.7.2'],
    [7, 2, '172.31.7.4'],
    [7, 252, '172.31.7.254'],
  ])('block %i node %i is %s, and back', (block, index, address) => {
    expect(lanNodeAddress(block, index)).toBe(address);
    expect(lanNodeIndex(block, address)).toBe(index);
  });

  it.each([
    ['172.31.8.2', 'another block'],
    ['172.31.7.1', 'the host'],
    ['172.31.7.255', 'broadcast'],
    ['10.0.0.2', 'another network'],
  ])('%s is no node address of block 7 (%s)', (address) => {
    expect(lanNodeIndex(7, address)).toBeUndefined();
  });

  it('refuses blocks and node indexes out of range', () => {
    expect(() => lanSubnet(256)).toThrow(/from 0 to 255/);
    expect(() => lanNodeAddress(1, 253)).toThrow(/from 0 to 252/);
    expect(() => lanNodeAddress(1, -1)).toThrow(/from 0 to 252/);
  });

  it.each<[string[], number[] | 'all']>([
    [['172.31.4.7/24'], [4]],
    [['172.31.4.0/22'], [4, 5, 6, 7]],
    [['172.31.9.1/32', '172.31.9.8/30'], [9]],
    [['192.0.2.2/24', '0.0.0.0/0', '10.88.0.1/16'], []],
    [['172.16.0.0/12'], 'all'],
    [['172.31.0.0/16'], 'all'],
    [['172.30.0.0/16'], []],
    [['garbage', '172.31.300.1/24'], []],
  ])('%j takes %j', (cidrs, expected) => {
    const taken = [...blocksTakenBy(cidrs)].sort((a, b) => a - b);
    if (expected === 'all') expect(taken).toHaveLength(256);
    else expect(taken).toEqual(expected);
  });

  it.each([
    [0, [], 0],
    [5, [5, 6], 7],
    [255, [255], 0],
    [300, [], 44],
  ])('from preferred %i with %j taken picks %i', (preferred, taken, expected) => {
    expect(pickLanBlock({ preferred, taken: new Set(taken) })).toBe(expected);
  });

  it('picks nothing when every block is taken', () => {
    expect(pickLanBlock({ preferred: 3, taken: blocksTakenBy(['172.31.0.0/16']) })).toBeUndefined();
  });
});
