import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkShimBuilt } from './shim-binary';

describe('checkShimBuilt', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-shim-binary-spec-'));
    for (const name of ['launcher.c', 'shim.h', 'Makefile', 'README.md', 'flotilla-shim']) {
      writeFileSync(join(dir, name), '');
      utimesSync(join(dir, name), 1_000, 1_000);
    }
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a binary at least as new as every source', () => {
    utimesSync(join(dir, 'flotilla-shim'), 2_000, 2_000);
    expect(() => checkShimBuilt(join(dir, 'flotilla-shim'))).not.toThrow();
  });

  it('names the sources newer than the binary and how to rebuild', () => {
    utimesSync(join(dir, 'launcher.c'), 3_000, 3_000);
    utimesSync(join(dir, 'Makefile'), 3_000, 3_000);
    expect(() => checkShimBuilt(join(dir, 'flotilla-shim'))).toThrow(
      `the container shim ${join(dir, 'flotilla-shim')} is older than Makefile, launcher.c: rebuild it with \`make -C ${dir}\``,
    );
  });

  it('ignores files that are not sources', () => {
    utimesSync(join(dir, 'README.md'), 3_000, 3_000);
    expect(() => checkShimBuilt(join(dir, 'flotilla-shim'))).not.toThrow();
  });
});
