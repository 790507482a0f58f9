import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@flotilla/cluster';
import { parseKubeconfig } from '@flotilla/client';
import { requireFreshBuild, runFlotilla } from './flotilla-process';

const APISERVER_MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'apiserver', 'src', 'main.js');

let home: string;
let portFlags: string[];
const flotilla = (args: readonly string[]) => runFlotilla(args, { env: { FLOTILLA_HOME: home }, cwd: home });

beforeAll(async () => {
  requireFreshBuild();
  if (!existsSync(APISERVER_MAIN)) {
    throw new Error(`${APISERVER_MAIN} is missing: run \`npm run build\` (npm test builds first)`);
  }
  home = mkdtempSync(join(tmpdir(), 'flotilla-up-'));
  portFlags = [
    ['--apiserver-port', await freePort()],
    ['--etcd-port', await freePort()],
    ['--etcd-peer-port', await freePort()],
    ['--redis-port', await freePort()],
  ].flatMap(([flag, port]) => [String(flag), String(port)]);
});

afterAll(async () => {
  // Whatever happened above, leave no cluster running.
  if (home) await flotilla(['down']);
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('flotilla up and down', () => {
  it('starts a cluster, writes a kubeconfig both flotilla and kubectl use, reuses it, and stops it', async () => {
    const up = await flotilla(['up', ...portFlags]);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    for (const component of ['etcd', 'redis', 'apiserver']) {
      expect(up.stdout).toMatch(new RegExp(`✓ ${component} started \\(pid \\d+`));
    }
    const kubeconfigFile = join(home, 'kubeconfig');
    expect(up.stdout).toContain(`Wrote ${kubeconfigFile} (context "flotilla")`);
    const kubeconfig = parseKubeconfig(readFileSync(kubeconfigFile, 'utf8'), kubeconfigFile);
    expect(kubeconfig['current-context']).toBe('flotilla');
    expect(kubeconfig.clusters[0]?.cluster['certificate-authority-data']).toMatch(/^[A-Za-z0-9+/=]+$/);

    const namespaces = await flotilla(['get', 'namespaces']);
    expect(namespaces.code).toBe(0);
    expect(namespaces.stdout).toMatch(/^default +Active /m);
    const kubectl = execFileSync(
      'kubectl',
      ['--kubeconfig', kubeconfigFile, 'get', 'namespace', 'default', '-o', 'name'],
      {
        encoding: 'utf8',
      },
    );
    expect(kubectl).toBe('namespace/default\n');

    const again = await flotilla(['up']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/✓ apiserver already running \(pid \d+\)/);
    expect(parseKubeconfig(readFileSync(kubeconfigFile, 'utf8'), kubeconfigFile).contexts).toHaveLength(1);

    const down = await flotilla(['down']);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/✓ apiserver stopped[\s\S]*✓ redis stopped[\s\S]*✓ etcd stopped/);
    const unreachable = await flotilla(['get', 'namespaces']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('is the cluster running? Start one with `flotilla up`');
  });
});
