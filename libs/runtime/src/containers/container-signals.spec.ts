import { parseSignal } from './container-signals';

describe('parseSignal', () => {
  it('accepts names with and without SIG, any case, and numbers', () => {
    expect(parseSignal('SIGTERM')).toBe(15);
    expect(parseSignal('term')).toBe(15);
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('SIGQUIT')).toBe(3);
  });

  it('rejects what is not a signal', () => {
    expect(() => parseSignal('SIGNOPE')).toThrow('unknown signal "SIGNOPE"');
    expect(() => parseSignal('0')).toThrow('unknown signal');
    expect(() => parseSignal('65')).toThrow('unknown signal');
  });
});
