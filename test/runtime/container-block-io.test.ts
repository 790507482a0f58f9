// Block I/O limits and counters on the real kernel: a loop device over a file in a temp dir, bound
// into a container whose cgroup throttles it; the container writes and reads it with O_DIRECT (so
// the page cache does not absorb the I/O) and the cgroup's files and counters must show it. Times
// are never asserted: a throttle's effect on speed depends on the machine's load.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ContainerManager,
  containerCgroupsFrom,
  createCgroupManager,
  type CgroupManager,
  type ContainerInfo,
} from '@flotilla/runtime';
import { requireFreshBuild, runFlotilla, type FlotillaResult } from '../cli/flotilla-process';
import { until } from '../support/eventually';
import { containerTestBed, runToEnd, type ContainerTestBed } from './containers.fixture';

const runId = `flotilla-test-blkio-${process.pid}-${randomBytes(3).toString('hex')}`;
const repo = join(__dirname, '..', '..');
const MIB = 1024 * 1024;

let bed: ContainerTestBed;
let loop = '';
let deviceNumbers = '';
let cgroups: CgroupManager;
let manager: ContainerManager;

/** The cgroup directory that holds a block I/O file: the blkio hierarchy's on v1, the one on v2. */
function blockIoDirectory(directories: readonly string[], file: string): string {
  const found = directories.find((directory) => existsSync(join(directory, file)));
  if (found === undefined) throw new Error(`no cgroup directory of ${directories.join(', ')} has ${file}`);
  return found;
}

function flotilla(...args: string[]): Promise<FlotillaResult> {
  return runFlotilla(args, { env: { FLOTILLA_STATE_DIR: join(bed.root, 'cli-state') }, cwd: repo });
}

beforeAll(async () => {
  requireFreshBuild();
  bed = await containerTestBed('block-io');
  const backing = join(bed.root, 'disk.img');
  await writeFile(backing, '');
  await truncate(backing, 32 * MIB);
  loop = execFileSync('losetup', ['--find', '--show', backing], { encoding: 'utf8' }).trim();
  const [major, minor] = execFileSync('lsblk', ['-dno', 'MAJ:MIN', loop], { encoding: 'utf8' })
    .trim()
    .split(':');
  deviceNumbers = `${major}:${minor}`;
  cgroups = await createCgroupManager();
  manager = new ContainerManager({
    stateDir: join(bed.root, 'lib-state'),
    cgroups: containerCgroupsFrom(cgroups, { parent: runId }),
  });
});

afterAll(async () => {
  for (const info of (await manager?.list({ all: true })) ?? [])
    await manager.remove(info.id, { force: true });
  if (cgroups && (await cgroups.exists(runId))) await (await cgroups.open(runId)).destroy();
  if (bed) {
    const cli = await flotilla('container', 'ps', '-a', '-q');
    for (const id of cli.stdout.split('\n').filter(Boolean)) await flotilla('container', 'rm', '-f', id);
  }
  if (loop !== '') execFileSync('losetup', ['-d', loop]);
  await bed?.cleanup();
});

const writeThenRead = (writeBlocks: number, readBlocks: number): string =>
  `dd if=/dev/zero of=${loop} bs=64k count=${writeBlocks} oflag=direct 2>/dev/null && ` +
  `dd if=${loop} of=/dev/null bs=64k count=${readBlocks} iflag=direct 2>/dev/null && echo done`;

describe('block I/O limits and counters', () => {
  it('writes the weight and every throttle for the device and counts the bytes the container moved', async () => {
    const result = await runToEnd(manager, {
      rootfsDir: bed.rootfs,
      network: 'none',
      volumes: [{ source: loop, target: loop, readOnly: false }],
      resources: {
        blkioWeight: 300,
        blkioDeviceReadBps: [{ path: loop, rate: 16 * MIB }],
        blkioDeviceWriteBps: [{ path: loop, rate: 8 * MIB }],
        blkioDeviceReadIops: [{ path: loop, rate: 2000 }],
        blkioDeviceWriteIops: [{ path: loop, rate: 1000 }],
      },
      command: ['/bin/sh', '-c', writeThenRead(32, 16)],
    });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'done\n' });

    const handle = await cgroups.open(`${runId}/${result.id}`);
    if (handle.version === 'v1') {
      const blkio = blockIoDirectory(handle.directories, 'blkio.throttle.read_bps_device');
      const read = async (file: string): Promise<string> => readFile(join(blkio, file), 'utf8');
      expect(await read('blkio.throttle.read_bps_device')).toBe(`${deviceNumbers} ${16 * MIB}\n`);
      expect(await read('blkio.throttle.write_bps_device')).toBe(`${deviceNumbers} ${8 * MIB}\n`);
      expect(await read('blkio.throttle.read_iops_device')).toBe(`${deviceNumbers} 2000\n`);
      expect(await read('blkio.throttle.write_iops_device')).toBe(`${deviceNumbers} 1000\n`);
      const weightFile = existsSync(join(blkio, 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight';
      expect((await read(weightFile)).trim()).toMatch(/^(default )?300$/);
    } else {
      const io = blockIoDirectory(handle.directories, 'io.max');
      expect(await readFile(join(io, 'io.max'), 'utf8')).toContain(
        `${deviceNumbers} rbps=${16 * MIB} wbps=${8 * MIB} riops=2000 wiops=1000`,
      );
    }

    // The cgroup outlives the exit until the container is removed, so its counters can still be read.
    const { usage } = await manager.stats(result.id);
    expect(usage.blockIo?.writeBytes).toBeGreaterThanOrEqual(2 * MIB);
    expect(usage.blockIo?.readBytes).toBeGreaterThanOrEqual(1 * MIB);
    const inspected = await manager.inspect(result.id);
    expect(inspected.blockIo?.writeBytes).toBeGreaterThanOrEqual(2 * MIB);
    expect(inspected.spec.resources?.blkioDeviceWriteBps).toEqual([{ path: loop, rate: 8 * MIB }]);
  });

  it('lets `container run` throttle a device and shows the bytes in `container stats` and `inspect`', async () => {
    const started = await flotilla(
      'container',
      'run',
      '-d',
      '--name',
      'blkio-cli',
      '--rootfs',
      bed.rootfs,
      '--network',
      'none',
      '-v',
      `${loop}:${loop}`,
      '--blkio-weight',
      '200',
      '--device-write-bps',
      `${loop}:4mb`,
      '--device-read-iops',
      `${loop}:500`,
      '/bin/sh',
      '-c',
      `${writeThenRead(16, 8)}; exec sleep 1000`,
    );
    expect(started).toMatchObject({ code: 0, stderr: '' });
    await until(
      'the container to finish its I/O',
      async () => (await flotilla('container', 'logs', 'blkio-cli')).stdout === 'done\n',
    );

    const stats = await flotilla('container', 'stats', '--no-stream', 'blkio-cli');
    expect(stats.code).toBe(0);
    const [header = '', row = ''] = stats.stdout.split('\n');
    expect(header).toMatch(/MEM USAGE \/ LIMIT\s+BLOCK I\/O\s+PIDS$/);
    // read / written in decimal units, as docker stats: at least 512 KiB read and 1 MiB written.
    const blockIo = /\s(\d+(?:\.\d+)?)(B|kB|MB|GB) \/ (\d+(?:\.\d+)?)(B|kB|MB|GB)\s+\d+$/.exec(row);
    expect(blockIo).not.toBeNull();
    const scale: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 };
    const bytes = (value = '0', unit = 'B'): number => Number(value) * (scale[unit] ?? 0);
    expect(bytes(blockIo?.[1], blockIo?.[2])).toBeGreaterThanOrEqual(0.5 * MIB * 0.99);
    expect(bytes(blockIo?.[3], blockIo?.[4])).toBeGreaterThanOrEqual(MIB * 0.99);

    const inspect = await flotilla('container', 'inspect', 'blkio-cli');
    const [info] = JSON.parse(inspect.stdout) as ContainerInfo[];
    expect(info?.blockIo?.writeBytes).toBeGreaterThanOrEqual(MIB);
    expect(info?.blockIo?.readBytes).toBeGreaterThanOrEqual(MIB / 2);
    expect(info?.spec.resources).toMatchObject({
      blkioWeight: 200,
      blkioDeviceWriteBps: [{ path: loop, rate: 4 * MIB }],
      blkioDeviceReadIops: [{ path: loop, rate: 500 }],
    });
    expect(await flotilla('container', 'rm', '-f', 'blkio-cli')).toMatchObject({ code: 0 });
  });

  it.each([
    [['--device-read-bps', 'LOOP:-1mb'], /--device-read-bps ".*:-1mb" has an invalid rate/],
    [['--device-write-bps', 'LOOP:1zb'], /has an invalid rate: use DEVICE:NUMBER\[UNIT\]/],
    [['--device-write-iops', 'LOOP:1.5'], /a whole number of operations per second/],
    [['--device-read-bps', 'LOOP'], /is not DEVICE:RATE/],
    [['--blkio-weight', '5'], /the block I\/O weight is from 10 to 1000/],
    [
      ['--device-write-bps', '/dev/flotilla-no-such-disk:1mb'],
      /\/dev\/flotilla-no-such-disk .*no such file or directory/,
    ],
    [['--device-read-iops', '/dev/null:10'], /\/dev\/null is not a block device/],
  ])('refuses %j with exit 125 and creates nothing', async (flags, message) => {
    const result = await flotilla(
      'container',
      'run',
      '--rm',
      '--rootfs',
      bed.rootfs,
      '--network',
      'none',
      ...flags.map((flag) => flag.replace('LOOP', loop)),
      'true',
    );
    expect(result).toMatchObject({ code: 125, stdout: '', stderr: expect.stringMatching(message) });
    expect((await flotilla('container', 'ps', '-a', '-q')).stdout).toBe('');
  });
});
