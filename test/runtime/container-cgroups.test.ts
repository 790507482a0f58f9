// How a container's processes get into its cgroups, on the real kernel. The shim joins them without
// the kernel's global migration lock (v1: the init writes itself to each hierarchy's `tasks` file;
// v2: clone3 with CLONE_INTO_CGROUP), so these check the result where it counts: /proc/PID/cgroup
// of the init and of an exec'd process, in every hierarchy, and never the shim itself.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ContainerManager,
  containerCgroupsFrom,
  createCgroupManager,
  type CgroupManager,
  type ContainerCgroups,
} from '@flotilla/runtime';
import { containerTestBed, type ContainerTestBed } from './containers.fixture';

const runId = `flotilla-test-ccg-${process.pid}-${randomBytes(3).toString('hex')}`;

/** hierarchy (controller list, or "" for v2) -> cgroup path, from /proc/PID/cgroup. */
async function cgroupsOf(pid: number): Promise<Map<string, string>> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  const result = new Map<string, string>();
  for (const line of text.trim().split('\n')) {
    const [, controllers = '', path = ''] = line.split(':');
    result.set(controllers, path);
  }
  return result;
}

async function cgroup2Mount(): Promise<string> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  const mount = mounts
    .split('\n')
    .map((line) => line.split(' '))
    .find((fields) => fields[2] === 'cgroup2')?.[1];
  if (mount === undefined)
    throw new Error('this host has no cgroup2 mount; mount one (mount -t cgroup2 none /sys/fs/cgroup)');
  return mount;
}

async function shimPid(directory: string): Promise<number> {
  return Number((await readFile(join(directory, 'shim.pid'), 'utf8')).split(' ')[0]);
}

let bed: ContainerTestBed;
const managers: Array<{ cgroups: CgroupManager; parent: string; manager: ContainerManager }> = [];

async function managerWith(cgroups: CgroupManager, parent: string): Promise<ContainerManager> {
  const manager = new ContainerManager({
    stateDir: join(bed.root, parent),
    cgroups: containerCgroupsFrom(cgroups, { parent }),
  });
  managers.push({ cgroups, parent, manager });
  return manager;
}

beforeAll(async () => {
  bed = await containerTestBed('container-cgroups');
});

afterAll(async () => {
  for (const { cgroups, parent, manager } of managers) {
    for (const info of await manager.list({ all: true })) await manager.remove(info.id, { force: true });
    if (await cgroups.exists(parent)) await (await cgroups.open(parent)).destroy();
  }
  await bed?.cleanup();
});

describe('a container joins its cgroups before its program runs', () => {
  it("puts the init and exec'd processes in the container's cgroup of every hierarchy, and not the shim", async () => {
    const cgroups = await createCgroupManager();
    const parent = `${runId}-host`;
    const manager = await managerWith(cgroups, parent);
    const info = await manager.create({ rootfsDir: bed.rootfs, network: 'none', command: ['sleep', '1000'] });
    const started = await manager.start(info.id);
    const pid = started.state.pid ?? 0;
    expect(pid).toBeGreaterThan(0);
    const expected = `/${parent}/${info.id}`;
    const handle = await cgroups.open(`${parent}/${info.id}`);
    const inits = await cgroupsOf(pid);
    // Every hierarchy the cgroup has a directory in lists the init there.
    const joined = [...inits.entries()].filter(([, path]) => path === expected);
    expect(joined.length).toBe(handle.directories.length);
    expect(await handle.listProcesses()).toContain(pid);

    const exec = await manager.exec(info.id, { args: ['sh', '-c', 'cat /proc/self/cgroup'] });
    let output = '';
    exec.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => exec.once('close', resolve));
    const execLines = output
      .trim()
      .split('\n')
      .filter((line) => line.endsWith(`:${expected}`));
    expect(execLines.length).toBe(handle.directories.length);

    const shims = await cgroupsOf(await shimPid(started.directory));
    expect([...shims.values()]).not.toContain(expected);
    await manager.stop(info.id, { timeoutSeconds: 0 });
  });

  it('joins by directory too when the cgroup gives only its cgroup.procs files (as the pod engine does)', async () => {
    const cgroups = await createCgroupManager();
    const parent = `${runId}-procs`;
    const full = containerCgroupsFrom(cgroups, { parent });
    // Only what ContainerCgroup required before it could name its version and directories.
    const procsOnly: ContainerCgroups = {
      async create(id, resources) {
        const cgroup = await full.create(id, resources);
        return {
          procsFiles: cgroup.procsFiles,
          usage: () => cgroup.usage(),
          destroy: () => cgroup.destroy(),
        };
      },
      open: (id) => full.open(id),
    };
    const manager = new ContainerManager({ stateDir: join(bed.root, parent), cgroups: procsOnly });
    managers.push({ cgroups, parent, manager });
    const info = await manager.create({ rootfsDir: bed.rootfs, network: 'none', command: ['sleep', '1000'] });
    const started = await manager.start(info.id);
    const conf = await readFile(join(started.directory, 'shim.conf'), 'utf8');
    expect(conf).not.toContain('cgroup_procs=');
    expect(conf).toContain(cgroups.version === 'v1' ? 'cgroup_v1=' : 'cgroup_v2=');
    const handle = await cgroups.open(`${parent}/${info.id}`);
    const joined = [...(await cgroupsOf(started.state.pid ?? 0)).values()].filter(
      (path) => path === `/${parent}/${info.id}`,
    );
    expect(joined.length).toBe(handle.directories.length);
    await manager.stop(info.id, { timeoutSeconds: 0 });
  });

  it('is created inside its cgroup v2 directory (clone3 CLONE_INTO_CGROUP) on the cgroup2 mount', async () => {
    const cgroups = await createCgroupManager({ root: await cgroup2Mount(), version: 'v2' });
    const parent = `${runId}-v2`;
    const manager = await managerWith(cgroups, parent);
    const info = await manager.create({ rootfsDir: bed.rootfs, network: 'none', command: ['sleep', '1000'] });
    const started = await manager.start(info.id);
    const expected = `/${parent}/${info.id}`;
    expect((await cgroupsOf(started.state.pid ?? 0)).get('')).toBe(expected);
    expect((await cgroupsOf(await shimPid(started.directory))).get('')).not.toBe(expected);
    expect(await (await cgroups.open(`${parent}/${info.id}`)).listProcesses()).toEqual([started.state.pid]);
    await manager.stop(info.id, { timeoutSeconds: 0 });
    expect((await manager.inspect(info.id)).state.exit?.signal).toBe(9);
  });
});
