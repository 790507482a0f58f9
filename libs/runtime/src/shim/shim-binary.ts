// Where the compiled shim lives: FLOTILLA_SHIM, else native/shim/flotilla-shim in the checkout this
// code runs from (scripts/setup.sh builds it there).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const RELATIVE_BINARY = join('native', 'shim', 'flotilla-shim');

/**
 * Throws when a source of the shim (*.c, *.h, Makefile beside it) is newer than the binary: the
 * TypeScript of the same checkout may speak a launcher request the old binary ignores (a pod's
 * namespace set-up would wait for an answer that never comes). A checkout updated by git gives
 * changed files a fresh mtime, so a rebase without `make -C native/shim` is caught here.
 */
export function checkShimBuilt(binary: string): void {
  const directory = dirname(binary);
  const built = statSync(binary).mtimeMs;
  const sources = readdirSync(directory).filter((name) => /\.[ch]$/.test(name) || name === 'Makefile');
  const newer = sources.filter((name) => statSync(join(directory, name)).mtimeMs > built).sort();
  if (newer.length > 0) {
    throw new Error(
      `the container shim ${binary} is older than ${newer.join(', ')}: rebuild it with \`make -C ${directory}\` (or npm run setup)`,
    );
  }
}

export function locateShimBinary(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['FLOTILLA_SHIM'];
  if (configured) {
    if (!existsSync(configured))
      throw new Error(`FLOTILLA_SHIM points at ${configured}, which does not exist`);
    return configured;
  }
  // Sources run from libs/runtime/src/shim, builds from dist/libs/runtime/src/shim: walk up to the root.
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, RELATIVE_BINARY);
    if (existsSync(candidate)) {
      checkShimBuilt(candidate);
      return candidate;
    }
    if (dirname(dir) === dir) break;
  }
  throw new Error(
    'the container shim is not built: run `npm run setup` (or `make -C native/shim`), or set FLOTILLA_SHIM',
  );
}
