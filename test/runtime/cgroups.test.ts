// Real cgroups on this machine (v1 hybrid here, v2 elsewhere): real processes are limited, OOM-killed,
// throttled and stopped from forking, and every cgroup made here is gone at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createCgroupManager,
  readCgroupCapacity,
  type CgroupHandle,
  type CgroupManager,
} from '@flotilla/runtime';

const BUSYBOX = '/bin/busybox';
const runId = `flotilla-test-cg-${process.pid}-${randomBytes(3).toString('hex')}`;

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the cgroup integration tests create real cgroups and must run as root (sudo npx jest test/runtime)',
    );
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Starts a busybox shell script that first joins the cgroup (as the shim does, before the workload
 * runs) and refuses to go on unless the join worked.
 */
function spawnInCgroup(handle: CgroupHandle, script: string): ChildProcess {
  const join = handle.procsFiles.map((file) => `echo $$ > '${file}'`).join(' && ');
  const guard = `grep -q '${handle.path}' /proc/self/cgroup || exit 99`;
  return spawn(BUSYBOX, ['sh', '-c', `${join} && ${guard} && ${script}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the cgroups of earlier runs whose test process died before its own clean-up. */
async function sweepCrashedRuns(manager: CgroupManager): Promise<void> {
  const tops = new Set<string>();
  const hierarchies =
    manager.version === 'v2'
      ? [manager.root]
      : await readdir(manager.root).then((names) => names.map((name) => join(manager.root, name)));
  for (const hierarchy of hierarchies) {
    for (const name of await readdir(hierarchy).catch(() => [])) {
      const match = /^flotilla-test-cg-(\d+)-[0-9a-f]+$/.exec(name);
      if (match && !isAlive(Number(match[1]))) tops.add(name);
    }
  }
  for (const name of tops) if (await manager.exists(name)) await (await manager.open(name)).destroy();
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

describe('cgroups on the real kernel', () => {
  let manager: CgroupManager;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    requireRoot();
    manager = await createCgroupManager();
    await sweepCrashedRuns(manager);
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    if (manager && (await manager.exists(runId))) await (await manager.open(runId)).destroy();
  });

  it('detects the version the host mounts', async () => {
    const unified = await readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8').catch(() => undefined);
    expect(manager.version).toBe(
      unified !== undefined && /\b(memory|cpu|pids)\b/.test(unified) ? 'v2' : 'v1',
    );
  });

  it('puts a real process in the cgroup and kills it on destroy', async () => {
    const handle = await manager.create(`${runId}/sleeper`, { memoryBytes: 64 * 1024 * 1024, pidsMax: 10 });
    const child = spawn(BUSYBOX, ['sleep', '300'], { stdio: 'ignore' });
    children.push(child);
    const pid = child.pid ?? 0;
    await handle.addProcess(pid);
    expect(await handle.listProcesses()).toEqual([pid]);
    expect(await readFile(`/proc/${pid}/cgroup`, 'utf8')).toContain(`/${runId}/sleeper`);
    const usage = await handle.usage();
    expect(usage.pids).toBe(1);
    expect(usage.memoryLimitBytes).toBe(64 * 1024 * 1024);

    await handle.destroy();
    expect(await exitOf(child)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await manager.exists(`${runId}/sleeper`)).toBe(false);
    for (const directory of handle.directories) {
      await expect(readFile(`${directory}/cgroup.procs`)).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('OOM-kills a process past its memory limit and counts the kill', async () => {
    const handle = await manager.create(`${runId}/oom`, { memoryBytes: 16 * 1024 * 1024 });
    // dd fills a 64 MiB buffer: four times the cap, with no swap to spill into.
    const child = spawnInCgroup(handle, `exec ${BUSYBOX} dd if=/dev/zero of=/dev/null bs=64M count=1`);
    children.push(child);
    expect(await exitOf(child)).toEqual({ code: null, signal: 'SIGKILL' });
    expect((await handle.usage()).oomKills).toBeGreaterThanOrEqual(1);
    // The same counter the shim reads on its own when the container ends.
    expect(await readFile(handle.oomKillFile ?? '', 'utf8')).toMatch(/^oom_kill [1-9]\d*$/m);
    await handle.destroy();
  });

  it('caps CPU at the quota: a busy loop gets about its 200 millicores', async () => {
    const handle = await manager.create(`${runId}/cpu`, { cpuMillicores: 200, cpuPeriodMicros: 100_000 });
    const child = spawnInCgroup(handle, 'while :; do :; done');
    children.push(child);
    await waitFor(async () => (await handle.usage()).cpuUsageNanos > 0n, 'the busy loop to run');

    const before = (await handle.usage()).cpuUsageNanos;
    const started = process.hrtime.bigint();
    await sleep(1500);
    const consumed = (await handle.usage()).cpuUsageNanos - before;
    const elapsed = process.hrtime.bigint() - started;
    const share = Number(consumed) / Number(elapsed);
    // At most 0.2 CPU plus one period of slack; an uncapped loop would take a whole CPU (1.0).
    expect(share).toBeLessThan(0.3);
    expect(share).toBeGreaterThan(0.02);
    await handle.destroy();
    expect((await exitOf(child)).signal).toBe('SIGKILL');
  });

  it('stops a fork bomb at the pids limit and still kills the whole bomb', async () => {
    const handle = await manager.create(`${runId}/bomb`, { pidsMax: 24 });
    // pids.events counts forks the kernel refused at the limit (v1 and v2 alike).
    const events = await (async () => {
      for (const directory of handle.directories) {
        if (
          await readFile(join(directory, 'pids.events')).then(
            () => true,
            () => false,
          )
        )
          return join(directory, 'pids.events');
      }
      throw new Error('no pids.events in the cgroup: is the pids controller enabled?');
    })();
    const refusedForks = async (): Promise<number> =>
      Number(/^max (\d+)$/m.exec(await readFile(events, 'utf8'))?.[1] ?? 0);
    // Every task forks a pipeline of two more, forever: without the limit this takes the host down.
    const child = spawnInCgroup(handle, 'bomb() { while :; do bomb | bomb; done; }; bomb');
    children.push(child);
    await waitFor(async () => (await refusedForks()) > 0, 'the kernel to refuse a fork at the pids limit');
    expect((await handle.usage()).pids).toBeLessThanOrEqual(24);
    await handle.destroy();
    expect(await manager.exists(`${runId}/bomb`)).toBe(false);
  });

  it('reads the capacity of the cgroup a process runs in', async () => {
    const handle = await manager.create(`${runId}/agent`, {
      memoryBytes: 256 * 1024 * 1024,
      cpuMillicores: 500,
    });
    const child = spawnInCgroup(handle, `exec ${BUSYBOX} sleep 300`);
    children.push(child);
    await waitFor(async () => (await handle.listProcesses()).length === 1, 'the process to join');
    // Memory is charged to the cgroup a page is touched in, so what the exec'd sleep mapped counts here.
    expect((await handle.usage()).memoryBytes).toBeGreaterThan(0);
    const capacity = await readCgroupCapacity({ procCgroupFile: `/proc/${child.pid ?? 0}/cgroup` });
    expect(capacity).toMatchObject({
      memoryBytes: 256 * 1024 * 1024,
      cpuMillicores: 500,
      memorySource: 'cgroup',
      cpuSource: 'cgroup',
    });
    await handle.destroy();
  });

  it('leaves no cgroup behind', async () => {
    const parent = await manager.open(runId);
    await parent.destroy();
    expect(await manager.exists(runId)).toBe(false);
    for (const directory of parent.directories) {
      await expect(readFile(`${directory}/cgroup.procs`)).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });
});
