import { Quantity, QuantityError } from './quantity';

describe('Quantity.parse', () => {
  it.each([
    // input, milliValue, canonical
    ['100m', 100n, '100m'],
    ['1', 1000n, '1'],
    ['1000m', 1000n, '1'],
    ['.5', 500n, '500m'],
    ['0.5', 500n, '500m'],
    ['5.', 5000n, '5'],
    ['+2', 2000n, '2'],
    ['1e3', 1_000_000n, '1e3'],
    ['1E3', 1_000_000n, '1e3'],
    ['1.5e-3', 2n, '1500e-6'],
    ['1k', 1_000_000n, '1k'],
    ['1Ki', 1_024_000n, '1Ki'],
    ['1Gi', 1_073_741_824_000n, '1Gi'],
    ['1.5Gi', 1_610_612_736_000n, '1536Mi'],
    ['128Mi', 134_217_728_000n, '128Mi'],
    ['0.1Ki', 102_400n, '102400m'],
    ['1n', 1n, '1n'],
    ['1500u', 2n, '1500u'],
    ['0', 0n, '0'],
    ['-1', -1000n, '-1'],
  ])('%s is exactly %s milli and prints as %s', (input, milli, canonical) => {
    const q = Quantity.parse(input);
    expect(q.milliValue()).toBe(milli);
    expect(q.toString()).toBe(canonical);
  });

  it('rounds precision finer than a nano up, as Kubernetes does', () => {
    expect(Quantity.parse('0.1n').nanos).toBe(1n);
    expect(Quantity.parse('1.0000000001').nanos).toBe(1_000_000_001n);
  });

  it('answers a string parsed before with the same value, and still refuses a malformed one every time', () => {
    const first = Quantity.parse('250m');
    expect(Quantity.parse('250m')).toBe(first);
    expect(Quantity.parse('250m').milliValue()).toBe(250n);
    for (let attempt = 0; attempt < 2; attempt++) expect(() => Quantity.parse('12x')).toThrow(QuantityError);
    // Past the bound the remembered values are dropped, not kept: parsing stays exact.
    for (let index = 0; index < 5000; index++) Quantity.parse(`${index}Mi`);
    expect(Quantity.parse('4999Mi').toString()).toBe('4999Mi');
    expect(Quantity.parse('250m').milliValue()).toBe(250n);
  });

  it('adds without floating-point error', () => {
    expect(Quantity.parse('0.1').add(Quantity.parse('0.2')).toString()).toBe('300m');
  });

  it('holds values far beyond 2^53 exactly', () => {
    expect(Quantity.parse('8Ei').value()).toBe(9_223_372_036_854_775_808n);
  });

  it.each(['', ' 1', '1 ', '1.2.3', 'abc', '1KB', '1mi', '--1', '.', 'e3', '1e', '1e999999999', '1Ki5'])(
    'rejects %j',
    (input) => {
      expect(() => Quantity.parse(input)).toThrow(QuantityError);
    },
  );

  it('compares', () => {
    expect(Quantity.parse('1').cmp(Quantity.parse('1000m'))).toBe(0);
    expect(Quantity.parse('999m').cmp(Quantity.parse('1'))).toBe(-1);
    expect(Quantity.parse('1Ki').cmp(Quantity.parse('1k'))).toBe(1);
  });
});
