import { kubeTimestamp } from './timestamps';

describe('kubeTimestamp', () => {
  it('writes timestamps with second precision', () => {
    expect(kubeTimestamp(new Date('2026-11-23T10:00:00.789Z'))).toBe('2026-11-23T10:00:00Z');
  });

  it.each([
    ['2026-11-23T10:00:00.000Z', '2026-11-23T10:00:00Z'],
    ['2026-11-23T10:00:00.999Z', '2026-11-23T10:00:00Z'],
    ['2026-11-23T10:00:01.001Z', '2026-11-23T10:00:01Z'],
    ['2026-11-23T10:00:00.500Z', '2026-11-23T10:00:00Z'],
    ['1969-12-31T23:59:59.500Z', '1969-12-31T23:59:59Z'],
    ['+010000-01-01T00:00:00.250Z', '+010000-01-01T00:00:00Z'],
  ])('%s → %s, in any order of calls', (iso, expected) => {
    expect(kubeTimestamp(new Date(iso))).toBe(expected);
  });

  it('refuses an invalid date as toISOString does', () => {
    expect(() => kubeTimestamp(new Date('not a date'))).toThrow(RangeError);
  });
});
