// What only v1 does: per-hierarchy directories, cpusets that start empty, memsw ordering.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createCgroupManager } from './cgroup-manager';
import { createFakeCgroupTree, type FakeCgroupTree } from './fake-cgroup-tree.fixture';

describe('cgroup v1 driver', () => {
  let tree: FakeCgroupTree;
  afterEach(() => tree.remove());

  it('fills each new cpuset level from its parent so tasks can join', async () => {
    tree = await createFakeCgroupTree({ version: 'v1' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    const handle = await manager.create('flotilla/pod/ctr');
    for (const level of ['flotilla', 'flotilla/pod', 'flotilla/pod/ctr']) {
      expect((await tree.readFile(`cpuset/${level}/cpuset.cpus`)).trim()).toBe('0-3');
      expect((await tree.readFile(`cpuset/${level}/cpuset.mems`)).trim()).toBe('0');
    }
    await expect(handle.addProcess(77)).resolves.toBeUndefined();
  });

  it('makes an ancestor again, cpuset filled, when it was removed after an earlier create', async () => {
    tree = await createFakeCgroupTree({ version: 'v1' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await manager.create('flotilla/pod/first');
    await (await manager.open('flotilla/pod')).destroy();
    const handle = await manager.create('flotilla/pod/second');
    expect((await tree.readFile('cpuset/flotilla/pod/cpuset.cpus')).trim()).toBe('0-3');
    expect((await tree.readFile('cpuset/flotilla/pod/second/cpuset.mems')).trim()).toBe('0');
    await expect(handle.addProcess(78)).resolves.toBeUndefined();
  });

  it('keeps an explicit cpuset', async () => {
    tree = await createFakeCgroupTree({ version: 'v1' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await manager.create('pinned', { cpusetCpus: '1', cpusetMems: '0' });
    expect((await tree.readFile('cpuset/pinned/cpuset.cpus')).trim()).toBe('1');
  });

  it('gives one directory per mounted hierarchy, co-mounted ones once', async () => {
    tree = await createFakeCgroupTree({ version: 'v1', coMountCpu: true });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    const handle = await manager.create('flotilla/x');
    // memory, cpu+cpuacct, cpuset, pids, freezer, blkio
    expect(handle.procsFiles).toHaveLength(6);
    expect(new Set(handle.procsFiles).size).toBe(6);
  });

  it('sets memsw to memory plus swap, in an order the kernel accepts both ways', async () => {
    tree = await createFakeCgroupTree({ version: 'v1' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    const handle = await manager.create('m', { memoryBytes: 100 * 4096 });
    expect((await tree.readFile('memory/m/memory.memsw.limit_in_bytes')).trim()).toBe(String(100 * 4096));
    await handle.update({ memoryBytes: 1000 * 4096, swapBytes: 10 * 4096 });
    expect((await tree.readFile('memory/m/memory.limit_in_bytes')).trim()).toBe(String(1000 * 4096));
    expect((await tree.readFile('memory/m/memory.memsw.limit_in_bytes')).trim()).toBe(String(1010 * 4096));
    await handle.update({ memoryBytes: 50 * 4096 });
    expect((await tree.readFile('memory/m/memory.memsw.limit_in_bytes')).trim()).toBe(String(50 * 4096));
  });

  it('says which hierarchy is missing when a limit needs it', async () => {
    tree = await createFakeCgroupTree({ version: 'v1', missingV1Controllers: ['pids'] });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await expect(manager.create('p', { pidsMax: 10 })).rejects.toThrow(/"pids" hierarchy is not mounted/);
    await expect(manager.create('p', { memoryBytes: 1 << 20 })).resolves.toBeDefined();
  });

  it("writes the weight to CFQ's blkio.weight where the kernel still has it", async () => {
    tree = await createFakeCgroupTree({ version: 'v1', blockIoWeightFile: 'blkio.weight' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await manager.create('cfq', { blockIo: { weight: 300 } });
    expect((await tree.readFile('blkio/cfq/blkio.weight')).trim()).toBe('300');
  });

  it('says what the kernel lacks when it has no block I/O weight file', async () => {
    tree = await createFakeCgroupTree({ version: 'v1', blockIoWeightFile: 'none' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await expect(manager.create('noweight', { blockIo: { weight: 300 } })).rejects.toThrow(
      /neither blkio.weight nor blkio.bfq.weight; the kernel needs the BFQ I\/O scheduler/,
    );
    // Throttles are blk-throttle's and do not need BFQ.
    await manager.create('throttled', { blockIo: { readBps: [{ major: 7, minor: 0, rate: 1024 }] } });
    expect(await tree.readFile('blkio/throttled/blkio.throttle.read_bps_device')).toBe('7:0 1024\n');
  });

  it('says which hierarchy is missing when block I/O limits need blkio', async () => {
    tree = await createFakeCgroupTree({ version: 'v1', missingV1Controllers: ['blkio'] });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await expect(manager.create('b', { blockIo: { weight: 100 } })).rejects.toThrow(
      /"blkio" hierarchy is not mounted/,
    );
    expect((await (await manager.create('b')).usage()).blockIo).toEqual({ readBytes: 0, writeBytes: 0 });
  });

  it('freezes, kills and thaws the tasks on killAll', async () => {
    tree = await createFakeCgroupTree({ version: 'v1' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    const handle = await manager.create('k');
    await handle.addProcess(11);
    await handle.addProcess(12);
    await handle.killAll();
    expect(tree.signals).toEqual([
      { pid: 11, signal: 'SIGKILL' },
      { pid: 12, signal: 'SIGKILL' },
    ]);
    expect((await tree.readFile('freezer/k/freezer.state')).trim()).toBe('THAWED');
    expect(await handle.listProcesses()).toEqual([]);
  });

  it('kills without freezing a cgroup that has no freezer directory', async () => {
    tree = await createFakeCgroupTree({ version: 'v1' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    const handle = await manager.create('nofreeze');
    await handle.addProcess(21);
    // As if another tool had created the cgroup in every hierarchy but the freezer.
    await rm(join(tree.root, 'freezer', 'nofreeze'), { recursive: true });
    await handle.destroy();
    expect(tree.signals).toEqual([{ pid: 21, signal: 'SIGKILL' }]);
    expect(await manager.exists('nofreeze')).toBe(false);
  });
});
