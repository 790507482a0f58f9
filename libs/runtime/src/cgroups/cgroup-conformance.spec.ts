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
  blockIoWeightFile(path: string): string;
  expectedBlockIoWeight: (weight: number) => string;
  /** Every block I/O throttle file of the cgroup with what it holds for the devices in `throttles` below. */
  expectedThrottles(path: string): Array<[file: string, content: string]>;
  /** The same after the update in the spec: 8:0's read cap lifted, 8:16's write cap changed. */
  expectedThrottlesAfterUpdate(path: string): Array<[file: string, content: string]>;
  /** Sets the kernel's counters for a cgroup. */
  setCounters(
    tree: FakeCgroupTree,
    path: string,
    counters: { cpuNanos: bigint; memory: number; inactiveFile: number; pids: number; oomKills: number },
  ): Promise<void>;
  /** Sets the block I/O byte counters of two devices: 8:0 reads and writes, 8:16 writes. */
  setBlockIoCounters(tree: FakeCgroupTree, path: string): Promise<void>;
}

const throttles = {
  readBps: [{ major: 8, minor: 0, rate: 1048576 }],
  writeBps: [
    { major: 8, minor: 0, rate: 2097152 },
    { major: 8, minor: 16, rate: 524288 },
  ],
  readIops: [{ major: 8, minor: 16, rate: 300 }],
  writeIops: [{ major: 8, minor: 0, rate: 100 }],
};

const v1Spelling: KernelSpelling = {
  memoryLimitFile: (path) => `memory/${path}/memory.limit_in_bytes`,
  cpuQuotaFile: (path) => `cpu/${path}/cpu.cfs_quota_us`,
  expectedCpuQuota: (quota) => String(quota),
  cpuWeightFile: (path) => `cpu/${path}/cpu.shares`,
  expectedWeight: (shares) => String(shares),
  pidsFile: (path) => `pids/${path}/pids.max`,
  blockIoWeightFile: (path) => `blkio/${path}/blkio.bfq.weight`,
  expectedBlockIoWeight: (weight) => String(weight),
  expectedThrottles: (path) => [
    [`blkio/${path}/blkio.throttle.read_bps_device`, '8:0 1048576\n'],
    [`blkio/${path}/blkio.throttle.write_bps_device`, '8:0 2097152\n8:16 524288\n'],
    [`blkio/${path}/blkio.throttle.read_iops_device`, '8:16 300\n'],
    [`blkio/${path}/blkio.throttle.write_iops_device`, '8:0 100\n'],
  ],
  expectedThrottlesAfterUpdate: (path) => [
    [`blkio/${path}/blkio.throttle.read_bps_device`, ''],
    [`blkio/${path}/blkio.throttle.write_bps_device`, '8:0 2097152\n8:16 4096\n'],
  ],
  async setBlockIoCounters(tree, path) {
    await tree.setFile(
      `blkio/${path}/blkio.throttle.io_service_bytes_recursive`,
      '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 12288\n' +
        '8:16 Read 0\n8:16 Write 1048576\n8:16 Total 1048576\nTotal 1060864\n',
    );
  },
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
  blockIoWeightFile: (path) => `${path}/io.weight`,
  // runc's and crun's conversion from Docker's 10..1000 to io.weight's 1..10000.
  expectedBlockIoWeight: (weight) => String(1 + Math.floor(((weight - 10) * 9999) / 990)),
  expectedThrottles: (path) => [
    [
      `${path}/io.max`,
      '8:0 rbps=1048576 wbps=2097152 riops=max wiops=100\n8:16 rbps=max wbps=524288 riops=300 wiops=max\n',
    ],
  ],
  expectedThrottlesAfterUpdate: (path) => [
    [
      `${path}/io.max`,
      '8:0 rbps=max wbps=2097152 riops=max wiops=100\n8:16 rbps=max wbps=4096 riops=300 wiops=max\n',
    ],
  ],
  async setBlockIoCounters(tree, path) {
    await tree.setFile(
      `${path}/io.stat`,
      '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=0 wbytes=1048576 rios=0 wios=256 dbytes=0 dios=0\n',
    );
  },
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
      blockIo: { readBytes: 0, writeBytes: 0 },
    });
  });

  it('writes the block I/O weight and each device throttle in the kernel spelling of its version', async () => {
    await manager.create('flotilla/disk', { blockIo: { weight: 500, ...throttles } });
    expect((await tree.readFile(spelling.blockIoWeightFile('flotilla/disk'))).trim()).toBe(
      spelling.expectedBlockIoWeight(500),
    );
    for (const [file, content] of spelling.expectedThrottles('flotilla/disk')) {
      expect([file, await tree.readFile(file)]).toEqual([file, content]);
    }
  });

  it('lifts a device throttle with rate 0 and changes one device without touching the others', async () => {
    const handle = await manager.create('flotilla/disk2', { blockIo: throttles });
    await handle.update({
      blockIo: {
        readBps: [{ major: 8, minor: 0, rate: 0 }],
        writeBps: [{ major: 8, minor: 16, rate: 4096 }],
      },
    });
    for (const [file, content] of spelling.expectedThrottlesAfterUpdate('flotilla/disk2')) {
      expect([file, await tree.readFile(file)]).toEqual([file, content]);
    }
  });

  it('reads block I/O bytes back, summed over the devices', async () => {
    const handle = await manager.create('flotilla/io-busy');
    await spelling.setBlockIoCounters(tree, 'flotilla/io-busy');
    expect((await handle.usage()).blockIo).toEqual({ readBytes: 4096, writeBytes: 8192 + 1048576 });
  });

  it('rejects block I/O limits out of range before creating anything', async () => {
    await expect(manager.create('flotilla/bad-io', { blockIo: { weight: 5 } })).rejects.toThrow(
      /blockIo.weight must be an integer from 10 to 1000/,
    );
    await expect(manager.create('flotilla/bad-io', { blockIo: { weight: 1001 } })).rejects.toThrow(
      /blockIo.weight/,
    );
    await expect(
      manager.create('flotilla/bad-io', { blockIo: { writeIops: [{ major: 8, minor: 0, rate: -1 }] } }),
    ).rejects.toThrow(/blockIo.writeIops needs .* at least 0; got 8:0 -1/);
    expect(await manager.exists('flotilla/bad-io')).toBe(false);
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
