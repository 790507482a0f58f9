// Jest's global set-up runs outside the projects' module mapping, so map @flotilla/* to the sources here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { register } from 'tsconfig-paths';

const root = join(__dirname, '..', '..');
const base = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as {
  compilerOptions: { paths: Record<string, string[]> };
};
register({ baseUrl: root, paths: base.compilerOptions.paths });

declare global {
  var __flotillaServices: import('./services').TestServices | undefined;
}

// Jest workers are forked after this runs, so they inherit these variables.
export default async function globalSetup(): Promise<void> {
  // Node hosts (namespaces, the LAN bridge, cgroups) of test runs that died, before their test dirs go:
  // a node's state dir may still hold mounts, which must be detached rather than deleted through.
  if (process.getuid?.() === 0) {
    const { sweepDeadNodeClusters } = await import('@flotilla/cluster');
    await sweepDeadNodeClusters().catch((error: unknown) =>
      process.stderr.write(`warning: sweeping dead test clusters failed: ${String(error)}\n`),
    );
  }
  const { sweepTestDirs } = await import('./leftovers');
  sweepTestDirs();
  const { startTestServices } = await import('./services');
  const services = await startTestServices();
  process.env['FLOTILLA_TEST_ETCD'] = services.etcdUrl;
  process.env['FLOTILLA_TEST_REDIS'] = services.redisUrl;
  globalThis.__flotillaServices = services;
}
