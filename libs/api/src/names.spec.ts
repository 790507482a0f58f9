import {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
} from './names';

describe('Kubernetes name rules', () => {
  it.each([
    ['web', true],
    ['web-1', true],
    ['1web', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['Web', false],
    ['-web', false],
    ['web-', false],
    ['web.example', false],
    ['', false],
  ])('DNS-1123 label %j valid=%s', (value, ok) => {
    expect(isDns1123Label(value).length === 0).toBe(ok);
  });

  it.each([
    ['example.com', true],
    ['my-app.v1', true],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, true],
    ['a'.repeat(254), false],
    ['example..com', false],
    ['.example', false],
    ['UPPER', false],
    ['under_score', false],
  ])('DNS-1123 subdomain %j valid=%s', (value, ok) => {
    expect(isDns1123Subdomain(value).length === 0).toBe(ok);
  });

  it.each([
    ['web', true],
    ['1web', false],
    ['web-2', true],
  ])('DNS-1035 label %j valid=%s', (value, ok) => {
    expect(isDns1035Label(value).length === 0).toBe(ok);
  });

  it.each([
    ['app', true],
    ['app.kubernetes.io/name', true],
    ['My_Key.1', true],
    ['/name', false],
    ['a/b/c', false],
    ['example.com/', false],
    ['Example.com/name', false],
    ['a'.repeat(64), false],
  ])('label key %j valid=%s', (value, ok) => {
    expect(isQualifiedName(value).length === 0).toBe(ok);
  });

  it.each([
    ['', true],
    ['v1.2_3-x', true],
    ['-x', false],
    ['a b', false],
    ['a'.repeat(64), false],
  ])('label value %j valid=%s', (value, ok) => {
    expect(isValidLabelValue(value).length === 0).toBe(ok);
  });

  it('uses Kubernetes wording so users recognise the error', () => {
    expect(isDns1123Subdomain('Bad_Name')[0]).toContain('a lowercase RFC 1123 subdomain must consist of');
    expect(isDns1123Label('x'.repeat(64))[0]).toBe('must be no more than 63 characters');
  });
});
