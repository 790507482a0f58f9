import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCgroupVersion } from './cgroup-detect';
import { createFakeCgroupTree } from './fake-cgroup-tree.fixture';

describe('detectCgroupVersion', () => {
  let scratch: string;
  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'flotilla-detect-'));
  });
  afterEach(() => rm(scratch, { recursive: true, force: true }));

  it('finds v2 on a unified root with controllers', async () => {
    const tree = await createFakeCgroupTree({ version: 'v2' });
    await expect(detectCgroupVersion(tree.root)).resolves.toBe('v2');
    await tree.remove();
  });

  it('finds v1 on a pure v1 root', async () => {
    const tree = await createFakeCgroupTree({ version: 'v1' });
    await expect(detectCgroupVersion(tree.root)).resolves.toBe('v1');
    await tree.remove();
  });

  it('treats a hybrid host (cgroup2 at unified with only hugetlb) as v1', async () => {
    await mkdir(join(scratch, 'memory'));
    await writeFile(join(scratch, 'memory', 'cgroup.procs'), '');
    await mkdir(join(scratch, 'unified'));
    await writeFile(join(scratch, 'unified', 'cgroup.controllers'), 'hugetlb\n');
    await expect(detectCgroupVersion(scratch)).resolves.toBe('v1');
  });

  it('explains a cgroup2 root whose controllers are bound to v1', async () => {
    await writeFile(join(scratch, 'cgroup.controllers'), 'hugetlb\n');
    await expect(detectCgroupVersion(scratch)).rejects.toThrow(
      /without the cpu, memory or pids controllers \(it has: "hugetlb"\)/,
    );
  });

  it('explains a root with no cgroup filesystem, and retries later', async () => {
    await expect(detectCgroupVersion(scratch)).rejects.toThrow(/no cgroup filesystem found/);
    await writeFile(join(scratch, 'cgroup.controllers'), 'cpu memory pids\n');
    await expect(detectCgroupVersion(scratch)).resolves.toBe('v2');
  });
});
