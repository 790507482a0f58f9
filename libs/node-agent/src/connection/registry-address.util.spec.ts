import { plainHttpAllowed } from './registry-address.util';

describe('plainHttpAllowed', () => {
  it.each([
    ['127.0.0.1:5000', true],
    ['localhost:5000', true],
    ['10.77.0.1:5000', true],
    ['172.20.1.1:5000', true],
    ['192.168.1.4', true],
    ['172.32.0.1:5000', false],
    ['8.8.8.8:5000', false],
    ['registry.example.com', false],
    ['registry.example.com:5000', false],
    ['[::1]:5000', false],
  ])('%s → %s', (registry, expected) => {
    expect(plainHttpAllowed(registry)).toBe(expected);
  });
});
