// One behaviour, two kernels: the same suite runs against the v1 and v2 drivers on fake cgroup trees.
// Only how a limit or a counter is spelled on disk differs, and each variant says that below.
import { join } from 'node:path';
import { CgroupError, type CgroupManager } from './cgroup.types';
import { createCgroupManager } from './cgroup-manager';
import {
  createFakeCgroupTree,
  type FakeCgroupTree,
  type FakeCgroupTreeOptions,
} from './fake-cgroup-tree.fixture';

interface KernelSpelling {
  /** Where each limit lands, relative to the tree root, for cgroup path p. */
  memoryLimitFile(path: string): string;
  cpuQuotaFile(path: string): string;
  expectedCpuQuota: (quotaMicros: number, periodMicros: number) => string;
  cpuWeightFile(path: string): string;
  expectedWeight: (shares: number) => string;
  pidsFile(path: string): string;
  /** Sets the kernel's counters for a cgroup. */
  setCounters(
    tree: FakeCgroupTree,
    path: string,
    counters: { cpuNanos: bigint; memory: number; inactiveFile: number; pids: number; oomKills: number },
  ): Promise<void>;
}

const v1Spelling: KernelSpelling = {
  memoryLimitFile: (path) => `memory/${path}/memory.limit_in_bytes`,
  cpuQuotaFile: (path) => `cpu/${path}/cpu.cfs_quota_us`,
  expectedCpuQuota: (quota) => String(quota),
  cpuWeightFile: (path) => `cpu/${path}/cpu.shares`,
  expectedWeight: (shares) => String(shares),
  pidsFile: (path) => `pids/${path}/pids.max`,
  async setCounters(tree, path, counters) {
    await tree.setFile(`cpuacct/${path}/cpuacct.usage`, `${counters.cpuNanos}\n`);
    await tree.setFile(`memory/${path}/memory.usage_in_bytes`, `${counters.memory}\n`);
    await tree.setFile(
      `memory/${path}/memory.stat`,
      `cache 10\ntotal_inactive_file ${counters.inactiveFile}\n`,
    );
    await tree.setFile(
      `memory/${path}/memory.oom_control`,
      `oom_kill_disable 0\nunder_oom 0\noom_kill ${counters.oomKills}\n`,
    );
    await tree.setFile(`pids/${path}/pids.current`, `${counters.pids}\n`);
  },
};

const v2Spelling: KernelSpelling = {
  memoryLimitFile: (path) => `${path}/memory.max`,
  cpuQuotaFile: (path) => `${path}/cpu.max`,
  expectedCpuQuota: (quota, period) => `${quota} ${period}`,
  cpuWeightFile: (path) => `${path}/cpu.weight`,
  expectedWeight: (shares) => String(1 + Math.floor(((shares - 2) * 9999) / 262142)),
  pidsFile: (path) => `${path}/pids.max`,
  async setCounters(tree, path, counters) {
    await tree.setFile(`${path}/cpu.stat`, `usage_usec ${counters.cpuNanos / 1000n}\nuser_usec 1\n`);
    await tree.setFile(`${path}/memory.current`, `${counters.memory}\n`);
    await tree.setFile(`${path}/memory.stat`, `anon 5\ninactive_file ${counters.inactiveFile}\n`);
    await tree.setFile(
      `${path}/memory.events`,
      `low 0\nhigh 0\nmax 3\noom 2\noom_kill ${counters.oomKills}\n`,
    );
    await tree.setFile(`${path}/pids.current`, `${counters.pids}\n`);
  },
};

const variants: Array<[string, FakeCgroupTreeOptions, KernelSpelling]> = [
  ['v1', { version: 'v1' }, v1Spelling],
  ['v1 with cpu,cpuacct co-mounted', { version: 'v1', coMountCpu: true }, v1Spelling],
  ['v2', { version: 'v2' }, v2Spelling],
  ['v2 without cgroup.kill', { version: 'v2', v2CgroupKill: false }, v2Spelling],
];

describe.each(variants)('CgroupManager conformance: %s', (_name, treeOptions, spelling) => {
  let tree: FakeCgroupTree;
  let manager: CgroupManager;

  beforeEach(async () => {
    tree = await createFakeCgroupTree(treeOptions);
    manager = await createCgroupManager({ root: tree.root, system: tree.system, settleTimeoutMs: 500 });
  });
  afterEach(() => tree.remove());

  it('detects the version of the tree', () => {
    expect(manager.version).toBe(treeOptions.version);
  });

  it('creates the cgroup with its ancestors and hands out the procs files the shim writes to', async () => {
    const handle = await manager.create('flotilla/web-1');
    expect(handle.path).toBe('flotilla/web-1');
    expect(handle.procsFiles.length).toBeGreaterThan(0);
    for (const file of handle.procsFiles) {
      expect(file.startsWith(tree.root)).toBe(true);
      expect(file.endsWith(join('flotilla', 'web-1', 'cgroup.procs'))).toBe(true);
      expect(await tree.system.exists(file)).toBe(true);
    }
    expect(await manager.exists('flotilla/web-1')).toBe(true);
    expect((await manager.open('flotilla/web-1')).directories).toEqual(handle.directories);
  });

  it('writes each limit in the kernel spelling of its version', async () => {
    await manager.create('flotilla/limited', {
      memoryBytes: 64 * 1024 * 1024,
      cpuMillicores: 500,
      cpuShares: 512,
      pidsMax: 100,
    });
    expect((await tree.readFile(spelling.memoryLimitFile('flotilla/limited'))).trim()).toBe(
      String(64 * 1024 * 1024),
    );
    expect((await tree.readFile(spelling.cpuQuotaFile('flotilla/limited'))).trim()).toBe(
      spelling.expectedCpuQuota(50_000, 100_000),
    );
    expect((await tree.readFile(spelling.cpuWeightFile('flotilla/limited'))).trim()).toBe(
      spelling.expectedWeight(512),
    );
    expect((await tree.readFile(spelling.pidsFile('flotilla/limited'))).trim()).toBe('100');
  });

  it('updates limits in both directions, leaving unnamed limits alone', async () => {
    const handle = await manager.create('flotilla/grow', { memoryBytes: 32 * 1024 * 1024, pidsMax: 10 });
    await handle.update({ memoryBytes: 256 * 1024 * 1024 });
    expect((await tree.readFile(spelling.memoryLimitFile('flotilla/grow'))).trim()).toBe(
      String(256 * 1024 * 1024),
    );
    await handle.update({ memoryBytes: 16 * 1024 * 1024 });
    expect((await tree.readFile(spelling.memoryLimitFile('flotilla/grow'))).trim()).toBe(
      String(16 * 1024 * 1024),
    );
    expect((await tree.readFile(spelling.pidsFile('flotilla/grow'))).trim()).toBe('10');
  });

  it('honours a custom CFS period', async () => {
    await manager.create('flotilla/period', { cpuMillicores: 250, cpuPeriodMicros: 10_000 });
    expect((await tree.readFile(spelling.cpuQuotaFile('flotilla/period'))).trim()).toBe(
      spelling.expectedCpuQuota(2_500, 10_000),
    );
  });

  it('reads usage back: cpu time in ns, working set, limit, pids and oom kills', async () => {
    const handle = await manager.create('flotilla/busy', { memoryBytes: 128 * 1024 * 1024 });
    await spelling.setCounters(tree, 'flotilla/busy', {
      cpuNanos: 12_345_678_000n,
      memory: 50_000_000,
      inactiveFile: 10_000_000,
      pids: 7,
      oomKills: 2,
    });
    expect(await tree.system.readText(handle.oomKillFile ?? '')).toMatch(/^oom_kill 2$/m);
    expect(await handle.usage()).toEqual({
      cpuUsageNanos: 12_345_678_000n,
      memoryBytes: 40_000_000,
      memoryLimitBytes: 128 * 1024 * 1024,
      pids: 7,
      oomKills: 2,
    });
  });

  it('reports no memory limit for an unlimited cgroup', async () => {
    const handle = await manager.create('flotilla/free');
    expect((await handle.usage()).memoryLimitBytes).toBeUndefined();
  });

  it('adds processes and lists them', async () => {
    const handle = await manager.create('flotilla/procs');
    await handle.addProcess(4242);
    await handle.addProcess(4343);
    expect(await handle.listProcesses()).toEqual([4242, 4343]);
    for (const file of handle.procsFiles) expect(await tree.system.readText(file)).toContain('4242');
  });

  it('freezes and thaws', async () => {
    const handle = await manager.create('flotilla/ice');
    await handle.freeze();
    await handle.thaw();
    await expect(handle.freeze()).resolves.toBeUndefined();
  });

  it('kills every task and removes the cgroup with its children on destroy', async () => {
    // Tasks sit in leaves: v2 refuses tasks in a cgroup whose controllers reach children.
    const handle = await manager.create('flotilla/doomed');
    await manager.create('flotilla/doomed/inner');
    await (await manager.create('flotilla/doomed/inner/deeper')).addProcess(202);
    await (await manager.create('flotilla/doomed/other')).addProcess(101);
    await (await manager.create('flotilla/doomed/sibling')).addProcess(303);
    await handle.destroy();
    expect(tree.signals.map((sent) => sent.pid).every((pid) => [101, 202, 303].includes(pid))).toBe(true);
    expect(await manager.exists('flotilla/doomed')).toBe(false);
    for (const directory of handle.directories) expect(await tree.system.exists(directory)).toBe(false);
    expect(await manager.exists('flotilla')).toBe(true);
  });

  it('destroys idempotently', async () => {
    const handle = await manager.create('flotilla/twice');
    await handle.destroy();
    await expect(handle.destroy()).resolves.toBeUndefined();
  });

  it('refuses to open a cgroup that does not exist', async () => {
    await expect(manager.open('flotilla/ghost')).rejects.toThrow(/no cgroup flotilla\/ghost/);
  });

  it.each(['../escape', '/absolute', '', 'a//b', 'a/./b', 'a/../b', 'spaces in name'])(
    'rejects the path %j before touching the tree',
    async (path) => {
      await expect(manager.create(path)).rejects.toThrow(CgroupError);
    },
  );

  it('rejects invalid limits before creating anything', async () => {
    await expect(manager.create('flotilla/bad', { memoryBytes: 1.5 })).rejects.toThrow(
      /memoryBytes must be an integer/,
    );
    await expect(manager.create('flotilla/bad', { cpuShares: 1 })).rejects.toThrow(/cpuShares/);
    await expect(manager.create('flotilla/bad', { cpusetCpus: '0-a' })).rejects.toThrow(/cpusetCpus/);
    await expect(manager.create('flotilla/bad', { swapBytes: 10 })).rejects.toThrow(/needs memoryBytes/);
    expect(await manager.exists('flotilla/bad')).toBe(false);
  });

  it('refuses a pid that is not a positive integer', async () => {
    const handle = await manager.create('flotilla/pids');
    await expect(handle.addProcess(-1)).rejects.toThrow(/positive integer/);
  });
});
