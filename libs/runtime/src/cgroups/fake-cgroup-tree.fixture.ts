// A cgroup tree in a temp dir that behaves like the kernel where our drivers depend on it: mkdir fills a
// cgroup with its control files, v1 cpusets start empty and refuse tasks until filled, memsw may never
// drop below the memory cap, v2 controllers reach children only through subtree_control, rmdir refuses
// a cgroup with tasks or children, and SIGKILL removes a task. Its tasks are plain numbers, so specs
// run both drivers hermetically without signalling anything real.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { CgroupVersion } from './cgroup.types';
import { hostCgroupSystem, type CgroupSystem } from './cgroup-system';

export interface FakeCgroupTreeOptions {
  version: CgroupVersion;
  /** v1: mount cpu and cpuacct together as "cpu,cpuacct" with symlinks, as many distributions do. */
  coMountCpu?: boolean;
  /** v1: leave out these hierarchies, as a host that does not mount them. */
  missingV1Controllers?: string[];
  /** v2: the controllers the root offers (default cpu, memory, pids, cpuset, io, hugetlb). */
  v2Controllers?: string[];
  /** v2: whether cgroups have cgroup.kill (Linux 5.14+); default true. */
  v2CgroupKill?: boolean;
  /**
   * The block I/O weight file a child cgroup has: v1 blkio.bfq.weight (default) or CFQ's blkio.weight,
   * v2 io.bfq.weight or io.weight (default); "none" for a kernel with neither.
   */
  blockIoWeightFile?: 'blkio.weight' | 'blkio.bfq.weight' | 'io.weight' | 'io.bfq.weight' | 'none';
}

export interface FakeCgroupTree {
  readonly root: string;
  readonly system: CgroupSystem;
  /** Every signal sent, in order. */
  readonly signals: Array<{ pid: number; signal: NodeJS.Signals }>;
  /** Writes a file relative to the root, as the kernel updates counters. */
  setFile(path: string, content: string): Promise<void>;
  readFile(path: string): Promise<string>;
  exists(path: string): Promise<boolean>;
  remove(): Promise<void>;
}

const UNLIMITED_V1 = '9223372036854771712';

const V1_FILES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  memory: {
    'memory.limit_in_bytes': UNLIMITED_V1,
    'memory.memsw.limit_in_bytes': UNLIMITED_V1,
    'memory.usage_in_bytes': '0',
    'memory.stat': 'cache 0\nrss 0\ntotal_inactive_file 0\n',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
  },
  cpu: { 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1', 'cpu.shares': '1024' },
  cpuacct: { 'cpuacct.usage': '0' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '', 'cpuset.effective_cpus': '' },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
  freezer: { 'freezer.state': 'THAWED' },
  blkio: {
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '',
    'blkio.throttle.write_iops_device': '',
    'blkio.throttle.io_service_bytes': 'Total 0\n',
    'blkio.throttle.io_service_bytes_recursive': 'Total 0\n',
  },
};

/** Throttle files whose writes set one device's line, as the kernel does, instead of replacing the file. */
const PER_DEVICE_FILES = new Set([
  'blkio.throttle.read_bps_device',
  'blkio.throttle.write_bps_device',
  'blkio.throttle.read_iops_device',
  'blkio.throttle.write_iops_device',
  'io.max',
]);

const V2_FILES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  memory: {
    'memory.max': 'max',
    'memory.swap.max': 'max',
    'memory.current': '0',
    'memory.stat': 'anon 0\nfile 0\ninactive_file 0\n',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n',
  },
  cpu: {
    'cpu.max': 'max 100000',
    'cpu.weight': '100',
    'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n',
  },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '', 'cpuset.cpus.effective': '0-3' },
  io: { 'io.max': '', 'io.stat': '' },
  hugetlb: {},
};

/**
 * What a per-device write leaves in the file. v1: "MAJ:MIN RATE" replaces that device's line and a
 * rate of 0 removes it. v2 io.max: the keys given replace that device's ("max" where unset), and a
 * device with every key at max disappears.
 */
function mergeDeviceLine(path: string, current: string, value: string): string {
  const [device = '', ...settings] = words(value);
  if (!/^\d+:\d+$/.test(device)) throw kernelError('EINVAL', path);
  const lines = new Map(
    current
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => [words(line)[0] ?? '', line]),
  );
  if (basename(path) !== 'io.max') {
    const [rate] = settings;
    if (settings.length !== 1 || rate === undefined || !/^\d+$/.test(rate)) throw kernelError('EINVAL', path);
    if (rate === '0') lines.delete(device);
    else lines.set(device, `${device} ${rate}`);
  } else {
    const keys = new Map<string, string>([
      ['rbps', 'max'],
      ['wbps', 'max'],
      ['riops', 'max'],
      ['wiops', 'max'],
    ]);
    for (const field of words(lines.get(device) ?? '').slice(1)) {
      const [key = '', setting = ''] = field.split('=');
      keys.set(key, setting);
    }
    for (const field of settings) {
      const [key = '', setting = ''] = field.split('=');
      if (!keys.has(key) || !/^(\d+|max)$/.test(setting)) throw kernelError('EINVAL', path);
      keys.set(key, setting);
    }
    if ([...keys.values()].every((setting) => setting === 'max')) lines.delete(device);
    else lines.set(device, `${device} ${[...keys].map(([key, setting]) => `${key}=${setting}`).join(' ')}`);
  }
  return [...lines.values()].map((line) => `${line}\n`).join('');
}

function kernelError(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: fake cgroup refused ${path}`), { code });
}

async function writeFiles(directory: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [name, content] of Object.entries(files)) await writeFile(join(directory, name), content);
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '');
}

export async function createFakeCgroupTree(options: FakeCgroupTreeOptions): Promise<FakeCgroupTree> {
  const root = await mkdtemp(join(tmpdir(), `flotilla-fake-cgroup-${options.version}-`));
  const signals: Array<{ pid: number; signal: NodeJS.Signals }> = [];
  const hierarchyOf = new Map<string, string>(); // hierarchy dir → controller names it carries

  if (options.version === 'v1') {
    const missing = new Set(options.missingV1Controllers ?? []);
    for (const controller of Object.keys(V1_FILES)) {
      if (missing.has(controller)) continue;
      if (options.coMountCpu && (controller === 'cpu' || controller === 'cpuacct')) continue;
      const directory = join(root, controller);
      await mkdir(directory);
      hierarchyOf.set(directory, controller);
      await writeFiles(directory, { 'cgroup.procs': '', ...V1_FILES[controller] });
    }
    if (options.coMountCpu) {
      const directory = join(root, 'cpu,cpuacct');
      await mkdir(directory);
      hierarchyOf.set(directory, 'cpu,cpuacct');
      await writeFiles(directory, { 'cgroup.procs': '', ...V1_FILES['cpu'], ...V1_FILES['cpuacct'] });
      await symlink('cpu,cpuacct', join(root, 'cpu'));
      await symlink('cpu,cpuacct', join(root, 'cpuacct'));
    }
    const cpuset = join(root, 'cpuset');
    if (hierarchyOf.has(cpuset)) {
      await writeFiles(cpuset, { 'cpuset.cpus': '0-3', 'cpuset.mems': '0', 'cpuset.effective_cpus': '0-3' });
    }
  } else {
    const controllers = options.v2Controllers ?? ['cpuset', 'cpu', 'io', 'memory', 'pids', 'hugetlb'];
    await writeFiles(root, {
      'cgroup.controllers': controllers.join(' '),
      'cgroup.subtree_control': '',
      'cgroup.procs': '',
      'cpu.stat': 'usage_usec 0\n',
    });
  }

  // A v2 child's io files: io.max and io.stat always, and the weight file this kernel has.
  const v2Files = (controller: string): Readonly<Record<string, string>> => {
    const files = V2_FILES[controller] ?? {};
    const weightFile = options.blockIoWeightFile ?? 'io.weight';
    if (controller !== 'io' || !weightFile.startsWith('io.')) return files;
    return { ...files, [weightFile]: 'default 100\n' };
  };

  const v1Hierarchy = (path: string): string | undefined =>
    [...hierarchyOf.keys()].find((hierarchy) => path === hierarchy || path.startsWith(`${hierarchy}/`));

  async function read(path: string): Promise<string> {
    // v2's cgroup.controllers is live: whatever the parent enables for its children right now.
    if (options.version === 'v2' && basename(path) === 'cgroup.controllers' && dirname(path) !== root) {
      return readFile(join(dirname(dirname(path)), 'cgroup.subtree_control'), 'utf8');
    }
    return readFile(path, 'utf8');
  }

  // Synchronous, because a SIGKILL takes effect before kill(2) returns as far as the caller can tell.
  function descendants(directory: string): string[] {
    const found = [directory];
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      if (entry.isDirectory()) found.push(...descendants(join(directory, entry.name)));
    }
    return found;
  }

  function removePid(pid: number): void {
    for (const start of options.version === 'v1' ? [...hierarchyOf.keys()] : [root]) {
      for (const directory of descendants(start)) {
        const procs = join(directory, 'cgroup.procs');
        const pids = words(readFileSync(procs, 'utf8'));
        if (pids.includes(String(pid)))
          writeFileSync(procs, pids.filter((p) => p !== String(pid)).join('\n'));
      }
    }
  }

  async function makeDirectory(path: string): Promise<boolean> {
    try {
      await mkdir(path);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EEXIST') return false;
      throw error;
    }
    const parent = dirname(path);
    if (options.version === 'v1') {
      const hierarchy = v1Hierarchy(path);
      const controllers = hierarchy === undefined ? [] : (hierarchyOf.get(hierarchy) ?? '').split(',');
      await writeFile(join(path, 'cgroup.procs'), '');
      for (const controller of controllers) await writeFiles(path, V1_FILES[controller] ?? {});
      const weightFile = options.blockIoWeightFile ?? 'blkio.bfq.weight';
      if (controllers.includes('blkio') && weightFile.startsWith('blkio.')) {
        await writeFile(join(path, weightFile), '100');
      }
      return true;
    }
    const enabled = words(await read(join(parent, 'cgroup.subtree_control')));
    await writeFiles(path, {
      'cgroup.subtree_control': '',
      'cgroup.procs': '',
      'cgroup.events': 'populated 0\nfrozen 0\n',
      'cgroup.freeze': '0',
      'cpu.stat': 'usage_usec 0\n',
      ...(options.v2CgroupKill === false ? {} : { 'cgroup.kill': '' }),
    });
    for (const controller of enabled) await writeFiles(path, v2Files(controller));
    return true;
  }

  async function writeText(path: string, value: string): Promise<void> {
    if (!(await hostCgroupSystem.exists(path))) throw kernelError('ENOENT', path);
    const directory = dirname(path);
    const name = basename(path);
    switch (name) {
      case 'cgroup.procs': {
        if (!/^\d+$/.test(value)) throw kernelError('EINVAL', path);
        const hierarchy = v1Hierarchy(directory);
        if (hierarchy !== undefined && hierarchyOf.get(hierarchy) === 'cpuset') {
          if ((await read(join(directory, 'cpuset.cpus'))).trim() === '') throw kernelError('ENOSPC', path);
        }
        const pids = words(await read(path));
        if (!pids.includes(value)) pids.push(value);
        await writeFile(path, pids.join('\n'));
        return;
      }
      case 'cgroup.subtree_control': {
        const available = words(await read(join(directory, 'cgroup.controllers')));
        const enabled = new Set(words(await read(path)));
        if (directory !== root && words(await read(join(directory, 'cgroup.procs'))).length > 0) {
          throw kernelError('EBUSY', path);
        }
        for (const change of words(value)) {
          const controller = change.slice(1);
          if (!available.includes(controller)) throw kernelError('ENOENT', path);
          if (change.startsWith('+')) enabled.add(controller);
          else enabled.delete(controller);
        }
        await writeFile(path, [...enabled].join(' '));
        // Enabling a controller makes its files appear in every child at once.
        for (const entry of await readdir(directory, { withFileTypes: true })) {
          if (!entry.isDirectory()) continue;
          for (const controller of enabled) {
            for (const [file, content] of Object.entries(v2Files(controller))) {
              const target = join(directory, entry.name, file);
              if (!(await hostCgroupSystem.exists(target))) await writeFile(target, content);
            }
          }
        }
        return;
      }
      case 'cgroup.kill': {
        for (const cgroup of descendants(directory)) await writeFile(join(cgroup, 'cgroup.procs'), '');
        return;
      }
      case 'cgroup.freeze': {
        await writeFile(path, value);
        await writeFile(join(directory, 'cgroup.events'), `populated 0\nfrozen ${value.trim()}\n`);
        return;
      }
      case 'memory.limit_in_bytes':
      case 'memory.memsw.limit_in_bytes': {
        const memsw = join(directory, 'memory.memsw.limit_in_bytes');
        const memory = join(directory, 'memory.limit_in_bytes');
        const next = BigInt(value);
        if (name === 'memory.limit_in_bytes' && (await hostCgroupSystem.exists(memsw))) {
          if (next > BigInt((await read(memsw)).trim())) throw kernelError('EINVAL', path);
        }
        if (name === 'memory.memsw.limit_in_bytes' && next < BigInt((await read(memory)).trim())) {
          throw kernelError('EINVAL', path);
        }
        await writeFile(path, value);
        return;
      }
      default:
        if (PER_DEVICE_FILES.has(name)) {
          await writeFile(path, mergeDeviceLine(path, await read(path), value));
          return;
        }
        await writeFile(path, value);
    }
  }

  async function removeDirectory(path: string): Promise<void> {
    const entries = await readdir(path, { withFileTypes: true });
    if (entries.some((entry) => entry.isDirectory())) throw kernelError('EBUSY', path);
    if (words(await read(join(path, 'cgroup.procs'))).length > 0) throw kernelError('EBUSY', path);
    await rm(path, { recursive: true });
  }

  const system: CgroupSystem = {
    readText: read,
    writeText,
    makeDirectory,
    removeDirectory,
    listSubdirectories: (path) => hostCgroupSystem.listSubdirectories(path),
    exists: (path) => hostCgroupSystem.exists(path),
    realPath: (path) => hostCgroupSystem.realPath(path),
    signal(pid, signal) {
      signals.push({ pid, signal });
      if (signal === 'SIGKILL') removePid(pid);
    },
  };

  return {
    root,
    system,
    signals,
    setFile: (path, content) => writeFile(join(root, path), content),
    readFile: (path) => read(join(root, path)),
    exists: (path) => hostCgroupSystem.exists(join(root, path)),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
