// What only v2 does: controllers enabled down the tree, cpu.weight, cgroup.kill.
import { createCgroupManager } from './cgroup-manager';
import { createFakeCgroupTree, type FakeCgroupTree } from './fake-cgroup-tree.fixture';

describe('cgroup v2 driver', () => {
  let tree: FakeCgroupTree;
  afterEach(() => tree.remove());

  it('enables cpu, io, memory and pids in every ancestor, and cpuset only when asked', async () => {
    tree = await createFakeCgroupTree({ version: 'v2' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await manager.create('flotilla/pod/ctr');
    for (const level of ['', 'flotilla/', 'flotilla/pod/']) {
      expect((await tree.readFile(`${level}cgroup.subtree_control`)).split(' ').sort()).toEqual([
        'cpu',
        'io',
        'memory',
        'pids',
      ]);
    }
    expect(await tree.exists('flotilla/pod/ctr/memory.max')).toBe(true);
    await manager.create('flotilla/pinned', { cpusetCpus: '0-1' });
    expect((await tree.readFile('flotilla/cgroup.subtree_control')).split(' ')).toContain('cpuset');
    expect((await tree.readFile('flotilla/pinned/cpuset.cpus')).trim()).toBe('0-1');
  });

  it('enables cpuset on the way down when an update first asks for it', async () => {
    tree = await createFakeCgroupTree({ version: 'v2' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    const handle = await manager.create('flotilla/later');
    await handle.update({ cpusetCpus: '1' });
    expect((await tree.readFile('flotilla/later/cpuset.cpus')).trim()).toBe('1');
  });

  it('explains a controller the host does not delegate', async () => {
    tree = await createFakeCgroupTree({ version: 'v2', v2Controllers: ['cpu', 'memory', 'pids'] });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await expect(manager.create('x', { cpusetCpus: '0' })).rejects.toThrow(
      /"cpuset" controller is not available/,
    );
  });

  it('converts shares to weight as Kubernetes does and zeroes swap with a memory cap', async () => {
    tree = await createFakeCgroupTree({ version: 'v2' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await manager.create('w', { cpuShares: 1024, memoryBytes: 1 << 24 });
    expect((await tree.readFile('w/cpu.weight')).trim()).toBe('39');
    expect((await tree.readFile('w/memory.swap.max')).trim()).toBe('0');
  });

  it('writes the weight to io.bfq.weight unconverted when BFQ is there', async () => {
    tree = await createFakeCgroupTree({ version: 'v2', blockIoWeightFile: 'io.bfq.weight' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await manager.create('bfq', { blockIo: { weight: 300 } });
    expect((await tree.readFile('bfq/io.bfq.weight')).trim()).toBe('300');
    expect(await tree.exists('bfq/io.weight')).toBe(false);
  });

  it('says what the kernel lacks when it has no io weight file', async () => {
    tree = await createFakeCgroupTree({ version: 'v2', blockIoWeightFile: 'none' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await expect(manager.create('noweight', { blockIo: { weight: 300 } })).rejects.toThrow(
      /neither io.bfq.weight nor io.weight/,
    );
  });

  it('explains a host without the io controller when block I/O limits are asked, and reads zero bytes', async () => {
    tree = await createFakeCgroupTree({ version: 'v2', v2Controllers: ['cpu', 'memory', 'pids'] });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await expect(
      manager.create('x', { blockIo: { writeBps: [{ major: 8, minor: 0, rate: 1 }] } }),
    ).rejects.toThrow(/"io" controller is not available/);
    expect((await (await manager.create('y')).usage()).blockIo).toEqual({ readBytes: 0, writeBytes: 0 });
  });

  it('kills through cgroup.kill without signalling pid by pid', async () => {
    tree = await createFakeCgroupTree({ version: 'v2' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    const handle = await manager.create('k');
    await handle.addProcess(5);
    await handle.killAll();
    expect(tree.signals).toEqual([]);
    expect(await handle.listProcesses()).toEqual([]);
  });

  it('falls back to freeze, SIGKILL, thaw on kernels without cgroup.kill', async () => {
    tree = await createFakeCgroupTree({ version: 'v2', v2CgroupKill: false });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    const handle = await manager.create('k');
    await handle.addProcess(5);
    await handle.killAll();
    expect(tree.signals).toEqual([{ pid: 5, signal: 'SIGKILL' }]);
    expect((await tree.readFile('k/cgroup.freeze')).trim()).toBe('0');
  });
});
