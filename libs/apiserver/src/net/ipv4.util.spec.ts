import { formatIpv4, parseIpv4 } from './ipv4.util';

describe('IPv4 addresses', () => {
  it.each([
    ['0.0.0.0', 0],
    ['10.96.0.1', 10 * 2 ** 24 + 96 * 2 ** 16 + 1],
    ['255.255.255.255', 2 ** 32 - 1],
  ])('%s is %s and back', (text, value) => {
    expect(parseIpv4(text)).toBe(value);
    expect(formatIpv4(value)).toBe(text);
  });

  it.each(['10.96.0', '10.96.0.1.2', '10.96.0.256', '10.96.0.010', '10.96.0.-1', 'fd00::1', '', 'None'])(
    '%s is not an address',
    (text) => {
      expect(parseIpv4(text)).toBeUndefined();
    },
  );
});
