import {
  AllocationRangeError,
  freeOffset,
  ipAt,
  ipOffset,
  parseNodePortRange,
  parseServiceIpRange,
  portOffset,
  upperBandStart,
} from './service-allocation.util';

describe('service IP ranges', () => {
  it.each([
    ['10.96.0.0/12', 2 ** 20, '10.96.0.0/12'],
    ['10.96.0.0/28', 16, '10.96.0.0/28'],
    ['192.168.5.0/24', 256, '192.168.5.0/24'],
    ['10.96.0.4/30', 4, '10.96.0.4/30'],
  ])('%s holds %s addresses', (text, size, cidr) => {
    expect(parseServiceIpRange(text)).toMatchObject({ size, cidr });
  });

  it.each([
    ['10.0.0.0/8', /between \/12 and \/30/],
    ['10.96.0.0/31', /between \/12 and \/30/],
    ['10.96.0.1/24', /host bits set: the network is 10.96.0.0\/24/],
    ['10.96.0.0', /not an IPv4 CIDR/],
    ['fd00::/108', /not an IPv4 CIDR/],
    ['10.96.0.256/24', /not an IPv4 CIDR/],
  ])('%s is refused', (text, message) => {
    expect(() => parseServiceIpRange(text)).toThrow(AllocationRangeError);
    expect(() => parseServiceIpRange(text)).toThrow(message);
  });

  const small = parseServiceIpRange('10.96.0.0/28');
  it.each([
    ['10.96.0.1', 1],
    ['10.96.0.14', 14],
    ['10.96.0.0', undefined],
    ['10.96.0.15', undefined],
    ['10.96.0.16', undefined],
    ['10.95.255.255', undefined],
    ['10.96.0.01', undefined],
    ['None', undefined],
  ])('%s is offset %s of 10.96.0.0/28', (ip, offset) => {
    expect(ipOffset(small, ip)).toBe(offset);
  });

  it('turns offsets back into addresses', () => {
    expect(ipAt(small, 10)).toBe('10.96.0.10');
    expect(ipAt(parseServiceIpRange('10.96.0.0/12'), 2 ** 20 - 2)).toBe('10.111.255.254');
  });
});

describe('node port ranges', () => {
  it.each([
    ['30000-32767', 30000, 2768, '30000-32767'],
    ['30000+2767', 30000, 2768, '30000-32767'],
    ['8080-8080', 8080, 1, '8080-8080'],
  ])('%s starts at %s and holds %s ports', (text, first, size, normal) => {
    expect(parseNodePortRange(text)).toEqual({ first, size, text: normal });
  });

  it.each(['32767-30000', '0-10', '30000-70000', 'ports', '30000'])('%s is refused', (text) => {
    expect(() => parseNodePortRange(text)).toThrow(/must be FIRST-LAST/);
  });

  it.each([
    [30000, 0],
    [32767, 2767],
    [29999, undefined],
    [32768, undefined],
    [30000.5, undefined],
  ])('port %s is offset %s', (port, offset) => {
    expect(portOffset(parseNodePortRange('30000-32767'), port)).toBe(offset);
  });
});

describe('the upper band that dynamic allocation tries first', () => {
  it.each([
    // 10.96.0.0/28: 14 usable from offset 1, band cut to half the range.
    [{ first: 1, usable: 14, divisor: 16, max: 256 }, 8],
    // 10.96.0.0/24: 254 usable, band 16.
    [{ first: 1, usable: 254, divisor: 16, max: 256 }, 17],
    // 10.96.0.0/12: band capped at 256.
    [{ first: 1, usable: 2 ** 20 - 2, divisor: 16, max: 256 }, 257],
    // 30000-32767 as offsets: band 2768 / 32 = 86.
    [{ first: 0, usable: 2768, divisor: 32, max: 128 }, 86],
  ])('%j: upper band from offset %s', (options, start) => {
    expect(upperBandStart(options)).toBe(start);
  });
});

describe('picking a free offset', () => {
  it.each([
    // Upper band 8..14 scanned from a random start, wrapping inside the band.
    [{ first: 1, last: 14, upperFrom: 8, taken: [], random: 0 }, 8],
    [{ first: 1, last: 14, upperFrom: 8, taken: [], random: 0.99 }, 14],
    [{ first: 1, last: 14, upperFrom: 8, taken: [14], random: 0.99 }, 8],
    [{ first: 1, last: 14, upperFrom: 8, taken: [11, 12], random: 0.5 }, 13],
    // Upper band full: the lower band from its bottom.
    [{ first: 1, last: 14, upperFrom: 8, taken: [8, 9, 10, 11, 12, 13, 14], random: 0.3 }, 1],
    [{ first: 1, last: 14, upperFrom: 8, taken: [1, 8, 9, 10, 11, 12, 13, 14], random: 0.3 }, 2],
    // Everything taken.
    [{ first: 1, last: 3, upperFrom: 2, taken: [1, 2, 3], random: 0.3 }, undefined],
    // A band start past the end means no upper band.
    [{ first: 0, last: 0, upperFrom: 5, taken: [], random: 0.3 }, 0],
  ])('%j gives %s', (options, expected) => {
    expect(freeOffset({ ...options, taken: new Set(options.taken) })).toBe(expected);
  });
});
