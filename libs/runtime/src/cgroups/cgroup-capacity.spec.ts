import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProcCgroup, readCgroupCapacity } from './cgroup-capacity';
import { createCgroupManager } from './cgroup-manager';
import { createFakeCgroupTree, type FakeCgroupTree } from './fake-cgroup-tree.fixture';

const MEMINFO = 'MemTotal:       24684084 kB\nMemFree:        1000 kB\n';

describe('readCgroupCapacity', () => {
  let tree: FakeCgroupTree;
  afterEach(() => tree.remove());

  async function procFiles(cgroupLines: string): Promise<{ procCgroupFile: string; meminfoFile: string }> {
    const procCgroupFile = join(tree.root, 'proc-self-cgroup');
    const meminfoFile = join(tree.root, 'proc-meminfo');
    await writeFile(procCgroupFile, cgroupLines);
    await writeFile(meminfoFile, MEMINFO);
    return { procCgroupFile, meminfoFile };
  }

  it('uses the host when the cgroup has no caps', async () => {
    tree = await createFakeCgroupTree({ version: 'v2' });
    const files = await procFiles('0::/\n');
    const capacity = await readCgroupCapacity({
      root: tree.root,
      system: tree.system,
      hostCpuCount: 4,
      ...files,
    });
    expect(capacity).toEqual({
      memoryBytes: 24684084 * 1024,
      cpuMillicores: 4000,
      memorySource: 'host',
      cpuSource: 'host',
    });
  });

  it('takes the tightest cap along the v2 ancestry', async () => {
    tree = await createFakeCgroupTree({ version: 'v2' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await manager.create('agents', { memoryBytes: 2 * 1024 ** 3, cpuMillicores: 1500 });
    await manager.create('agents/node-a', { memoryBytes: 4 * 1024 ** 3 });
    const files = await procFiles('0::/agents/node-a\n');
    const capacity = await readCgroupCapacity({
      root: tree.root,
      system: tree.system,
      hostCpuCount: 8,
      ...files,
    });
    expect(capacity).toEqual({
      memoryBytes: 2 * 1024 ** 3,
      cpuMillicores: 1500,
      memorySource: 'cgroup',
      cpuSource: 'cgroup',
    });
  });

  it('reads v1 memory and cpu hierarchies separately, as a hybrid host has them', async () => {
    tree = await createFakeCgroupTree({ version: 'v1' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await manager.create('process_api/abc', { memoryBytes: 512 << 20 });
    await manager.create('limited', { cpuMillicores: 500 });
    const files = await procFiles('4:memory:/process_api/abc\n2:cpu:/limited\n3:cpuset:/\n0::/\n');
    const capacity = await readCgroupCapacity({
      root: tree.root,
      system: tree.system,
      hostCpuCount: 2,
      ...files,
    });
    expect(capacity).toEqual({
      memoryBytes: 512 << 20,
      cpuMillicores: 500,
      memorySource: 'cgroup',
      cpuSource: 'cgroup',
    });
  });

  it('counts a cpuset narrower than the host', async () => {
    tree = await createFakeCgroupTree({ version: 'v1' });
    const manager = await createCgroupManager({ root: tree.root, system: tree.system });
    await manager.create('pinned', { cpusetCpus: '2-3' });
    await tree.setFile('cpuset/pinned/cpuset.effective_cpus', '2-3\n');
    const files = await procFiles('3:cpuset:/pinned\n');
    const capacity = await readCgroupCapacity({
      root: tree.root,
      system: tree.system,
      hostCpuCount: 4,
      ...files,
    });
    expect(capacity.cpuMillicores).toBe(2000);
    expect(capacity.cpuSource).toBe('cpuset');
  });

  it('parses co-mounted controllers from /proc/self/cgroup', () => {
    const paths = parseProcCgroup('3:cpu,cpuacct:/a\n0::/b\n1:name=systemd:/c\n');
    expect(paths.get('cpu')).toBe('/a');
    expect(paths.get('cpuacct')).toBe('/a');
    expect(paths.get('')).toBe('/b');
  });
});
