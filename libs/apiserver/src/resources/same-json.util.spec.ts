import { sameJsonText } from './same-json.util';

describe('sameJsonText', () => {
  const spec = { containers: [{ name: 'web', image: 'busybox', ports: [{ containerPort: 80 }] }] };
  const cases: Array<[string, unknown, unknown]> = [
    ['the same object', spec, spec],
    [
      'equal copies',
      { spec, status: { phase: 'Running' } },
      JSON.parse(JSON.stringify({ spec, status: { phase: 'Running' } })),
    ],
    [
      'a shared subtree beside a changed field',
      { spec, status: { phase: 'Pending' } },
      { spec, status: { phase: 'Running' } },
    ],
    ['the same keys in another order', { a: 1, b: 2 }, { b: 2, a: 1 }],
    ['an undefined key beside its absence', { a: 1, b: undefined }, { a: 1 }],
    ['undefined beside null in an array', [1, undefined], [1, null]],
    ['undefined beside null in an object', { a: undefined }, { a: null }],
    ['arrays of different length', [1, 2], [1, 2, 3]],
    ['an array beside an object', [], {}],
    ['a number beside its text', { a: 1 }, { a: '1' }],
    ['nested arrays', [[1, { x: [true] }]], [[1, { x: [true] }]]],
    ['nested arrays that differ', [[1, { x: [true] }]], [[1, { x: [false] }]]],
    ['null beside an empty object', null, {}],
  ];

  it.each(cases)('agrees with comparing JSON.stringify: %s', (_name, a, b) => {
    expect(sameJsonText(a, b)).toBe(JSON.stringify(a) === JSON.stringify(b));
    expect(sameJsonText(b, a)).toBe(JSON.stringify(b) === JSON.stringify(a));
  });
});
