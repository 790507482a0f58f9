// Where the compiled shim lives: FLOTILLA_SHIM, else native/shim/flotilla-shim in the checkout this
// code runs from (scripts/setup.sh builds it there).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const RELATIVE_BINARY = join('native', 'shim', 'flotilla-shim');

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
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(
    'the container shim is not built: run `npm run setup` (or `make -C native/shim`), or set FLOTILLA_SHIM',
  );
}
