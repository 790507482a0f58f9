import { LabelMatcher, SelectorError, labelSelectorMatcher, parseLabelSelector } from './label-selector';

describe('parseLabelSelector', () => {
  const labels = { app: 'web', tier: 'front', 'example.com/team': 'core' };

  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=api', false],
    ['app!=api', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['tier in (front,back)', true],
    ['tier in (back)', false],
    ['tier notin (back, middle)', true],
    ['missing notin (x)', true],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['example.com/team=core', true],
    [' app = web , tier in ( front ) ', true],
  ])('%j matches: %s', (selector, expected) => {
    expect(parseLabelSelector(selector).matches(labels)).toBe(expected);
  });

  it.each([
    ['app=web,', 'empty term'],
    ['app in (web', 'unbalanced'],
    ['app in ()', 'needs at least one value'],
    ['Bad Key=1', 'unable to parse'],
    ['app=-web', 'invalid label value'],
    ['-app=web', 'invalid label key'],
  ])('rejects %j with a message about %s', (selector, message) => {
    expect(() => parseLabelSelector(selector)).toThrow(SelectorError);
    expect(() => parseLabelSelector(selector)).toThrow(message);
  });

  it('prints a selector back in canonical form', () => {
    expect(parseLabelSelector('app = web,tier in (a,b),!x,y,z!=1').toString()).toBe(
      'app=web,tier in (a,b),!x,y,z!=1',
    );
  });
});

describe('labelSelectorMatcher', () => {
  it('combines matchLabels and matchExpressions', () => {
    const matcher = labelSelectorMatcher({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['front'] },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    });
    expect(matcher.matches({ app: 'web', tier: 'front' })).toBe(true);
    expect(matcher.matches({ app: 'web', tier: 'front', canary: 'yes' })).toBe(false);
    expect(matcher.matches(undefined)).toBe(false);
  });

  it('treats {} as matching everything', () => {
    const matcher: LabelMatcher = labelSelectorMatcher({});
    expect(matcher.empty).toBe(true);
    expect(matcher.matches({ anything: 'x' })).toBe(true);
  });

  it.each([
    [{ matchExpressions: [{ key: 'a', operator: 'In' }] }, 'requires at least one value'],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, 'takes no values'],
    [
      { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] },
      'not a valid label selector operator',
    ],
  ])('rejects %j', (selector, message) => {
    expect(() => labelSelectorMatcher(selector)).toThrow(message);
  });
});
