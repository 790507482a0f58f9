// The v2 driver on this kernel's real cgroup2 mount. On a pure v2 host that is /sys/fs/cgroup with
// every controller; on a hybrid host like this one it is /sys/fs/cgroup/unified, which has no cpu,
// memory or pids controller, yet the v2 core works there: cgroup.procs, cpu.stat, cgroup.freeze,
// cgroup.events and cgroup.kill. So the v2 driver's process handling is exercised for real everywhere.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createCgroupManager,
  detectCgroupVersion,
  type CgroupHandle,
  type CgroupManager,
} from '@flotilla/runtime';

const BUSYBOX = '/bin/busybox';
const runId = `flotilla-test-cg2-${process.pid}-${randomBytes(3).toString('hex')}`;

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the cgroup v2 integration tests create real cgroups and must run as root');
  }
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function spawnInCgroup(handle: CgroupHandle, script: string): ChildProcess {
  const join = handle.procsFiles.map((file) => `echo $$ > '${file}'`).join(' && ');
  const guard = `grep -q '${handle.path}' /proc/self/cgroup || exit 99`;
  return spawn(BUSYBOX, ['sh', '-c', `${join} && ${guard} && ${script}`], { stdio: 'ignore' });
}

function exitOf(child: ChildProcess): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode ?? child.exitCode);
    else child.once('exit', (code, signal) => resolve(signal ?? code));
  });
}

describe('the cgroup v2 driver on the real cgroup2 mount', () => {
  let mount: string;
  let manager: CgroupManager;
  let controllers: string[];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    requireRoot();
    mount = await cgroup2Mount();
    controllers = (await readFile(join(mount, 'cgroup.controllers'), 'utf8')).split(/\s+/).filter(Boolean);
    manager = await createCgroupManager({ root: mount, version: 'v2' });
    // Remove what runs of this file that died before their clean-up left behind.
    for (const name of await readdir(mount)) {
      const match = /^flotilla-test-cg2-(\d+)-[0-9a-f]+$/.exec(name);
      if (match && !isAlive(Number(match[1]))) await (await manager.open(name)).destroy();
    }
  });

  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (manager && (await manager.exists(runId))) await (await manager.open(runId)).destroy();
  });

  it('detects what the mount is: v2 with controllers, or a hybrid remnant to refuse', async () => {
    if (controllers.some((name) => ['cpu', 'memory', 'pids'].includes(name))) {
      await expect(detectCgroupVersion(mount)).resolves.toBe('v2');
    } else {
      await expect(detectCgroupVersion(mount)).rejects.toThrow(/without the cpu, memory or pids controllers/);
    }
  });

  it('counts CPU time, freezes it to a standstill, thaws it and kills through cgroup.kill', async () => {
    const handle = await manager.create(`${runId}/busy`);
    const child = spawnInCgroup(handle, 'while :; do :; done');
    children.push(child);
    await waitFor(async () => (await handle.usage()).cpuUsageNanos > 0n, 'CPU time to be counted');

    await handle.freeze();
    expect(await readFile(join(handle.directories[0] ?? '', 'cgroup.events'), 'utf8')).toMatch(/^frozen 1$/m);
    const frozenAt = (await handle.usage()).cpuUsageNanos;
    await sleep(300);
    expect((await handle.usage()).cpuUsageNanos).toBe(frozenAt);

    await handle.thaw();
    await waitFor(
      async () => (await handle.usage()).cpuUsageNanos > frozenAt,
      'the thawed loop to run again',
    );

    await handle.destroy();
    expect(await exitOf(child)).toBe('SIGKILL');
    expect(await manager.exists(`${runId}/busy`)).toBe(false);
  });

  it('kills every task of a tree of processes and removes nested cgroups', async () => {
    const handle = await manager.create(`${runId}/tree/leaf`);
    const child = spawnInCgroup(handle, `{ ${BUSYBOX} sleep 300 & ${BUSYBOX} sleep 300 & wait; }`);
    children.push(child);
    await waitFor(async () => (await handle.listProcesses()).length === 3, 'the shell and its two sleeps');
    const parent = await manager.open(`${runId}/tree`);
    await parent.destroy();
    expect(await exitOf(child)).toBe('SIGKILL');
    expect(await manager.exists(`${runId}/tree`)).toBe(false);
  });

  it('applies a memory cap where the controller is there, and explains where it is not', async () => {
    if (controllers.includes('memory')) {
      const handle = await manager.create(`${runId}/capped`, { memoryBytes: 64 * 1024 * 1024 });
      expect((await handle.usage()).memoryLimitBytes).toBe(64 * 1024 * 1024);
      await handle.destroy();
    } else {
      await expect(manager.create(`${runId}/capped`, { memoryBytes: 64 * 1024 * 1024 })).rejects.toThrow(
        /"memory" controller is not available/,
      );
    }
  });

  it('leaves no cgroup behind', async () => {
    await (await manager.open(runId)).destroy();
    expect(await manager.exists(runId)).toBe(false);
  });
});
