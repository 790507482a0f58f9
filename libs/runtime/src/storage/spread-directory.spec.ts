import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSpreadDirectory } from './spread-directory';

/** The file system's type as stat(1) names it ("ext2/ext3" for ext4 too, "tmpfs", ...). */
function fileSystemType(path: string): string {
  return execFileSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' }).trim();
}

function attributes(path: string): string {
  return execFileSync('lsattr', ['-d', path], { encoding: 'utf8' }).split(' ')[0] ?? '';
}

describe('ensureSpreadDirectory', () => {
  const root = mkdtempSync(join(tmpdir(), 'spread-directory-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates the directory and its parents with the mode asked', () => {
    const path = join(root, 'state', 'containers');
    ensureSpreadDirectory(path, { mode: 0o711 });
    expect(statSync(path).isDirectory()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o711 & ~process.umask());
    ensureSpreadDirectory(path, { mode: 0o711 });
    expect(statSync(path).isDirectory()).toBe(true);
    // Removed under a running process (a state dir cleaned by hand): made again, not remembered.
    rmSync(path, { recursive: true });
    ensureSpreadDirectory(path, { mode: 0o711 });
    expect(statSync(path).isDirectory()).toBe(true);
  });

  it('gives a directory it creates on ext4 the top-of-hierarchy flag', () => {
    const path = join(root, 'pods');
    ensureSpreadDirectory(path, { mode: 0o755 });
    // chattr's flag exists on ext2/3/4 only (CI's and this project's machines); elsewhere the call
    // must only leave the directory made, which the test above checks.
    if (fileSystemType(path) === 'ext2/ext3') expect(attributes(path)).toContain('T');
    else expect(statSync(path).isDirectory()).toBe(true);
  });
});
