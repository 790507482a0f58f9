// Containers with every real part composed as a node runs them: an image from the offline base image
// (overlay over shared layers), cgroups (memory OOM, pids, cpu quota) and the bridge network with a
// published port. Needs root; names come from a per-run id so files can run side by side.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BridgeNetwork,
  ContainerManager,
  createCgroupManager,
  ImageRootfsProvider,
  ImageStore,
  loadImageArchive,
  containerCgroupsFrom,
  type CgroupManager,
} from '@flotilla/runtime';
import { requireRoot } from './containers.fixture';
import { httpGet } from '../support/http-get';

const runId = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const image = 'flotilla/busybox:latest';
let root: string;
let manager: ContainerManager;
let cgroups: CgroupManager;
let network: BridgeNetwork;
const cgroupParent = `flotilla-test-${runId}`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function until<T>(probe: () => Promise<T>, attempts = 50): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await probe();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

beforeAll(async () => {
  requireRoot();
  root = await mkdtemp(join(tmpdir(), 'flotilla-containers-node-'));
  const stateDir = join(root, 'state');
  const archive = execFileSync(
    'bash',
    [join(__dirname, '..', '..', 'scripts', 'base-image.sh'), '--print-path'],
    {
      encoding: 'utf8',
    },
  ).trim();
  const images = new ImageStore({ stateDir });
  await loadImageArchive(images, archive);
  cgroups = await createCgroupManager();
  network = new BridgeNetwork({
    stateDir,
    name: `t${runId}`,
    bridge: `fb${runId}`.slice(0, 15),
    table: `flotilla_t${runId}`,
    subnet: `10.${240 + (process.pid % 10)}.${process.pid % 250}.0/24`,
  });
  manager = new ContainerManager({
    stateDir,
    images: new ImageRootfsProvider(images),
    cgroups: containerCgroupsFrom(cgroups, { parent: cgroupParent }),
    network,
  });
});

afterAll(async () => {
  for (const info of (await manager?.list({ all: true })) ?? [])
    await manager.remove(info.id, { force: true });
  await network?.remove();
  if (cgroups && (await cgroups.exists(cgroupParent))) await (await cgroups.open(cgroupParent)).destroy();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('containers from an image with cgroups and the bridge network', () => {
  it('runs the image command with the image defaults', async () => {
    const info = await manager.create({
      image,
      network: 'none',
      command: ['/bin/sh', '-c', 'echo $PATH; ls /var/www'],
    });
    await manager.start(info.id);
    expect((await manager.wait(info.id)).exitCode).toBe(0);
    const lines: string[] = [];
    for await (const entry of await manager.logs(info.id)) lines.push(entry.content);
    expect(lines).toEqual(['/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'index.html']);
  });

  it('OOM-kills a process past its memory limit and says so', async () => {
    const info = await manager.create({
      image,
      network: 'none',
      resources: { memoryBytes: 32 * 1024 * 1024 },
      // Grows a shell variable until the kernel steps in.
      command: ['/bin/sh', '-c', 'x=aaaaaaaaaaaaaaaa; while true; do x="$x$x"; done'],
    });
    await manager.start(info.id);
    expect(await manager.wait(info.id)).toMatchObject({ oomKilled: true, signal: 9, exitCode: 137 });
  });

  it('stops a fork bomb at the pids limit', async () => {
    const info = await manager.create({
      image,
      network: 'none',
      resources: { pidsLimit: 16 },
      // The subshell forks until the kernel refuses (a fatal error for sh); the init carries on.
      command: ['/bin/sh', '-c', '(while true; do sleep 1000 & done); exec sleep 1000'],
    });
    await manager.start(info.id);
    const failures = await until(async () => {
      const lines: string[] = [];
      for await (const entry of await manager.logs(info.id))
        if (entry.stream === 'stderr') lines.push(entry.content);
      if (!lines.some((line) => line.includes("can't fork"))) throw new Error('no fork has failed yet');
      return lines;
    });
    expect(failures.length).toBeGreaterThan(0);
    const pids = (await manager.stats(info.id)).usage.pids;
    expect(pids).toBeLessThanOrEqual(16);
    expect(pids).toBeGreaterThan(1);
    expect((await manager.inspect(info.id)).state.status).toBe('running');
    await manager.stop(info.id, { timeoutSeconds: 0 });
  });

  it('pauses a running container (frozen in its cgroup) for the length of some work, then thaws it', async () => {
    const info = await manager.create({ image, network: 'none', command: ['sleep', '1000'] });
    await manager.start(info.id);
    const frozen = async (): Promise<boolean> => {
      const handle = await cgroups.open(`${cgroupParent}/${info.id}`);
      if (handle.version === 'v2') {
        const dir = handle.directories[0] ?? '';
        return (await readFile(join(dir, 'cgroup.events'), 'utf8')).includes('frozen 1');
      }
      const dir = handle.directories.find((candidate) => candidate.includes('/freezer/')) ?? '';
      return (await readFile(join(dir, 'freezer.state'), 'utf8')).trim() === 'FROZEN';
    };
    expect(await manager.withPaused(info.id, frozen)).toBe(true);
    expect(await frozen()).toBe(false);
    await expect(
      manager.withPaused(info.id, async () => {
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(await frozen()).toBe(false);
    expect((await manager.inspect(info.id)).state.status).toBe('running');
    await manager.stop(info.id, { timeoutSeconds: 0 });
    expect(await manager.withPaused(info.id, async () => 'left alone')).toBe('left alone');
  });

  it('caps CPU with a quota', async () => {
    const info = await manager.create({
      image,
      network: 'none',
      resources: { cpuMillicores: 200 },
      command: ['/bin/sh', '-c', 'while true; do :; done'],
    });
    await manager.start(info.id);
    const before = (await manager.stats(info.id)).usage.cpuUsageNanos;
    const startedAt = process.hrtime.bigint();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const used = (await manager.stats(info.id)).usage.cpuUsageNanos - before;
    const elapsed = process.hrtime.bigint() - startedAt;
    // 200m is a fifth of one CPU; allow one CFS period of slack either way.
    expect(Number(used) / Number(elapsed)).toBeLessThan(0.3);
    expect(Number(used) / Number(elapsed)).toBeGreaterThan(0.05);
    await manager.stop(info.id, { timeoutSeconds: 0 });
  });

  it('serves busybox httpd to the host through -p', async () => {
    const hostPort = await freePort();
    const info = await manager.create({
      image,
      network: 'bridge',
      ports: [{ hostPort, containerPort: 80, protocol: 'tcp' }],
      command: ['httpd', '-f', '-p', '80', '-h', '/var/www'],
    });
    await manager.start(info.id);
    expect(await until(() => httpGet('127.0.0.1', hostPort))).toContain('Hello from Flotilla');
    await manager.stop(info.id, { timeoutSeconds: 1 });
    await manager.remove(info.id);
  });
});
