// Publishing without naming a host port: `-P` on an image that EXPOSEs, `-p 127.0.0.1::PORT`, the host
// ports chosen race-free, shown by `flotilla container port` and `ps`, and busybox httpd answering on
// the chosen port from the host's loopback. Needs root and a current build.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BridgeNetwork,
  ContainerManager,
  ImageBuilder,
  ImageRootfsProvider,
  ImageStore,
  loadImageArchive,
  parsePortMapping,
} from '@flotilla/runtime';
import { requireFreshBuild, runFlotilla, type FlotillaResult } from '../cli/flotilla-process';
import { requireRoot } from './containers.fixture';
import { httpGet } from '../support/http-get';

const repo = join(__dirname, '..', '..');
const runId = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const image = 'example/web-exposed:1';
let root: string;
let stateDir: string;
let manager: ContainerManager;
let network: BridgeNetwork;

/** httpd needs a moment to listen after the start returns: the answer, once there is one. */
async function answer(port: number): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await httpGet('127.0.0.1', port);
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function flotilla(...args: string[]): Promise<FlotillaResult> {
  return runFlotilla(args, { env: { FLOTILLA_STATE_DIR: stateDir }, cwd: repo });
}

beforeAll(async () => {
  requireRoot();
  requireFreshBuild();
  root = await mkdtemp(join(tmpdir(), 'flotilla-publish-'));
  stateDir = join(root, 'state');
  const images = new ImageStore({ stateDir });
  const archive = execFileSync('bash', [join(repo, 'scripts', 'base-image.sh'), '--print-path'], {
    encoding: 'utf8',
  }).trim();
  await loadImageArchive(images, archive);
  const context = join(root, 'context');
  execFileSync('mkdir', ['-p', context]);
  await writeFile(
    join(context, 'Containerfile'),
    'FROM flotilla/busybox:latest\nEXPOSE 8080\nEXPOSE 5353/udp\nCMD ["httpd", "-f", "-p", "8080", "-h", "/var/www"]\n',
  );
  await new ImageBuilder({ store: images, contextDir: context, tags: [image] }).build();
  network = new BridgeNetwork({
    stateDir,
    name: `p${runId}`,
    bridge: `fp${runId}`.slice(0, 15),
    table: `flotilla_p${runId}`,
    subnet: `10.${230 + (process.pid % 10)}.${process.pid % 250}.0/24`,
  });
  manager = new ContainerManager({ stateDir, images: new ImageRootfsProvider(images), network });
});

afterAll(async () => {
  for (const info of (await manager?.list({ all: true })) ?? [])
    await manager.remove(info.id, { force: true });
  await network?.remove();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('publishing on host ports the runtime chooses', () => {
  it('publishes every EXPOSEd port with -P, shows them, and serves httpd on the chosen port', async () => {
    const info = await manager.create({
      image,
      name: `web-${runId}`,
      network: 'bridge',
      publishAll: true,
      ports: [parsePortMapping('127.0.0.1::9090')],
    });
    await manager.start(info.id);
    const ports = (await manager.inspect(info.id)).network?.ports ?? [];
    expect(ports.map((port) => `${port.containerPort}/${port.protocol}`).sort()).toEqual([
      '5353/udp',
      '8080/tcp',
      '9090/tcp',
    ]);
    expect(ports.every((port) => port.hostPort > 0)).toBe(true);
    const web = ports.find((port) => port.containerPort === 8080);
    const local = ports.find((port) => port.containerPort === 9090);
    if (web === undefined || local === undefined) throw new Error('8080 and 9090 must be published');
    expect(local.hostIp).toBe('127.0.0.1');

    const all = await flotilla('container', 'port', `web-${runId}`);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`8080/tcp -> 0.0.0.0:${web.hostPort}\n`);
    expect(all.stdout).toContain(`9090/tcp -> 127.0.0.1:${local.hostPort}\n`);
    expect(all.stdout).toMatch(/^5353\/udp -> 0\.0\.0\.0:\d+$/m);
    expect(await flotilla('container', 'port', `web-${runId}`, '8080/tcp')).toEqual({
      code: 0,
      stdout: `0.0.0.0:${web.hostPort}\n`,
      stderr: '',
    });
    const missing = await flotilla('container', 'port', `web-${runId}`, '81');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no public port '81' published");
    expect((await flotilla('container', 'ps')).stdout).toContain(`0.0.0.0:${web.hostPort}->8080/tcp`);

    expect(await answer(web.hostPort)).toContain('Hello from Flotilla');
  });

  it('gives containers published at once different host ports', async () => {
    const created = await Promise.all(
      [1, 2, 3].map(() =>
        manager.create({ image, network: 'bridge', ports: [parsePortMapping('127.0.0.1::8080')] }),
      ),
    );
    await Promise.all(created.map((info) => manager.start(info.id)));
    const chosen = await Promise.all(
      created.map(async (info) => (await manager.inspect(info.id)).network?.ports?.[0]?.hostPort),
    );
    expect(chosen.every((port) => port !== undefined && port > 0)).toBe(true);
    expect(new Set(chosen).size).toBe(3);
    for (const port of chosen) expect(await answer(port ?? 0)).toContain('Hello from Flotilla');
  });
});
