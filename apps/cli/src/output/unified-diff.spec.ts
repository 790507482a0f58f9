import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unifiedDiff } from './unified-diff';

// GNU diff is the reference the format must match; the tests compare hunks with its output.
function gnuDiff(oldText: string, newText: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-diff-'));
  try {
    writeFileSync(join(dir, 'old'), oldText);
    writeFileSync(join(dir, 'new'), newText);
    try {
      execFileSync('diff', ['-u', join(dir, 'old'), join(dir, 'new')], { encoding: 'utf8' });
      return '';
    } catch (error) {
      const stdout = (error as { stdout?: string }).stdout ?? '';
      return stdout.split('\n').slice(2).join('\n');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function hunks(oldText: string, newText: string): string {
  return unifiedDiff({ oldText, newText, oldLabel: 'a', newLabel: 'b' }).split('\n').slice(2).join('\n');
}

describe('unifiedDiff', () => {
  const lines = (count: number, change?: Record<number, string>): string =>
    Array.from({ length: count }, (_, i) => change?.[i] ?? `line ${i}`).join('\n') + '\n';

  it('prints nothing for equal texts', () => {
    expect(unifiedDiff({ oldText: 'a\n', newText: 'a\n', oldLabel: 'x', newLabel: 'y' })).toBe('');
  });

  it('labels both sides and matches GNU diff for separate and merged hunks', () => {
    const oldText = lines(40);
    const newText = lines(40, { 2: 'changed 2', 8: 'changed 8', 30: 'changed 30' });
    const output = unifiedDiff({ oldText, newText, oldLabel: 'live/web', newLabel: 'merged/web' });
    expect(output.startsWith('--- live/web\n+++ merged/web\n@@ -1,')).toBe(true);
    expect(hunks(oldText, newText)).toBe(gnuDiff(oldText, newText));
  });

  it('matches GNU diff for insertions, deletions and a new file', () => {
    const oldText = lines(12);
    const newText = lines(12, { 0: 'first\nline 0', 11: 'line 11\nextra' }).replace('line 5\n', '');
    expect(hunks(oldText, newText)).toBe(gnuDiff(oldText, newText));
    expect(hunks('', 'a\nb\n')).toBe(gnuDiff('', 'a\nb\n'));
    expect(hunks('a\nb\n', '')).toBe(gnuDiff('a\nb\n', ''));
  });
});
