import { compileIgnore } from './context-ignore';

describe('compileIgnore', () => {
  const ignored = compileIgnore(
    [
      '# build output',
      'node_modules',
      '*.log',
      'docs/**/*.md',
      '!docs/keep/README.md',
      '/secret',
      'tmp?',
    ].join('\n'),
  );

  it.each([
    ['node_modules', true],
    ['node_modules/lib/index.js', true],
    ['app.log', true],
    ['logs/app.log', false],
    ['docs/a/b/c.md', true],
    ['docs/top.md', true],
    ['docs/keep/README.md', false],
    ['secret', true],
    ['secret/key', true],
    ['tmp1', true],
    ['tmp12', false],
    ['src/main.ts', false],
  ])('%s ignored: %s', (path, expected) => {
    expect(ignored(path)).toBe(expected);
  });

  it('ignores nothing without patterns', () => {
    expect(compileIgnore('\n# only comments\n')('anything')).toBe(false);
  });
});
