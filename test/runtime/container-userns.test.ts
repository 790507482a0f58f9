// User namespaces on the real kernel: the container's root is a host id from its map, its image
// layers are idmapped (host root's files read as its own root's), what it writes lands in the upper
// dir under host ids, /proc and /sys still mount, and its capabilities reach only what its
// namespace owns. Through the library and through `flotilla container run --userns/--uidmap`.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BridgeNetwork,
  ContainerManager,
  type BridgeNetworkOptions,
  type ContainerInfo,
} from '@flotilla/runtime';
import { registerRun } from './network-runs';
import { requireFreshBuild, runFlotilla, type FlotillaResult } from '../cli/flotilla-process';
import { until } from '../support/eventually';
import { containerTestBed, type ContainerTestBed } from './containers.fixture';

const repo = join(__dirname, '..', '..');
const HOST_ID = 400_000;
const CAP_DAC_OVERRIDE = 1n << 1n;

let bed: ContainerTestBed;
let cliState: string;

function flotilla(...args: string[]): Promise<FlotillaResult> {
  return runFlotilla(args, { env: { FLOTILLA_STATE_DIR: cliState }, cwd: repo });
}

beforeAll(async () => {
  requireFreshBuild();
  bed = await containerTestBed('userns');
  cliState = join(bed.root, 'cli-state');
});

afterAll(async () => {
  if (bed) {
    const cli = await flotilla('container', 'ps', '-a', '-q');
    for (const id of cli.stdout.split('\n').filter(Boolean)) await flotilla('container', 'rm', '-f', id);
  }
  await bed?.cleanup();
});

/** The host's view of a process: "Uid:" or "Gid:" line of /proc/PID/status (real, effective, saved, fs). */
async function statusIds(pid: number, field: 'Uid' | 'Gid'): Promise<number[]> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const line = status.split('\n').find((entry) => entry.startsWith(`${field}:`)) ?? '';
  return line.split(/\s+/).slice(1).filter(Boolean).map(Number);
}

async function logOf(id: string): Promise<string> {
  let text = '';
  for await (const entry of await bed.manager.logs(id)) text += `${entry.content}\n`;
  return text;
}

describe('containers in a user namespace', () => {
  it('runs as root inside and HOST_ID outside, on idmapped layers, with namespaced capabilities', async () => {
    const hostOwned = join(bed.root, 'host-owned');
    await mkdir(hostOwned, { mode: 0o755 });
    const script = [
      'echo uid=$(id -u) gid=$(id -g)',
      'echo map=$(cat /proc/self/uid_map)',
      // A file of the image (host root's on disk) is the container root's.
      'echo busybox-owner=$(stat -c %u:%g /bin/busybox)',
      'touch /made-by-root && touch /made-by-web && chown 1000:1000 /made-by-web',
      'echo appended >> /etc/group',
      'echo proc=$(grep -c " /proc proc " /proc/mounts) sys=$(grep -c " /sys sysfs " /proc/mounts)',
      'grep CapEff /proc/self/status',
      // CAP_DAC_OVERRIDE is in the set, yet a host directory owned by host root stays closed.
      'touch /host/x 2>/dev/null && echo host-write=allowed || echo host-write=denied',
      'echo ready',
      'exec sleep 1000',
    ].join('; ');
    const info = await bed.manager.create({
      rootfsDir: bed.rootfs,
      network: 'none',
      volumes: [{ source: hostOwned, target: '/host', readOnly: false }],
      userns: {
        mode: 'map',
        uidMappings: [{ containerId: 0, hostId: HOST_ID, size: 65536 }],
        gidMappings: [{ containerId: 0, hostId: HOST_ID, size: 65536 }],
      },
      command: ['/bin/sh', '-c', script],
    });
    const started = await bed.manager.start(info.id);
    const pid = started.state.pid ?? 0;
    expect(pid).toBeGreaterThan(0);
    const log = await until('the container to report', async () => {
      const text = await logOf(info.id);
      return text.includes('ready') ? text : undefined;
    });

    expect(log).toContain('uid=0 gid=0\n');
    expect(log).toMatch(/map= ?0 400000 65536\n/);
    expect(log).toContain('busybox-owner=0:0\n');
    expect(log).toContain('proc=1 sys=1\n');
    expect(log).toContain('host-write=denied\n');
    const capEff = BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(log)?.[1] ?? '0'}`);
    expect(capEff & CAP_DAC_OVERRIDE).toBe(CAP_DAC_OVERRIDE);

    expect(await statusIds(pid, 'Uid')).toEqual([HOST_ID, HOST_ID, HOST_ID, HOST_ID]);
    expect(await statusIds(pid, 'Gid')).toEqual([HOST_ID, HOST_ID, HOST_ID, HOST_ID]);
    const upper = info.rootfs.upperDir;
    const owner = async (path: string): Promise<[number, number]> => {
      const stats = await stat(join(upper, path));
      return [stats.uid, stats.gid];
    };
    expect(await owner('made-by-root')).toEqual([HOST_ID, HOST_ID]);
    expect(await owner('made-by-web')).toEqual([HOST_ID + 1000, HOST_ID + 1000]);
    // Copied up from a layer file owned by host root: stored under the container root's host id.
    expect(await owner('etc/group')).toEqual([HOST_ID, HOST_ID]);
    // The layer itself is untouched.
    expect((await stat(join(bed.rootfs, 'etc', 'group'))).uid).toBe(0);
    await bed.manager.remove(info.id, { force: true });
  });

  it('mounts a read-only root in the namespace and builds it again when the container restarts', async () => {
    const info = await bed.manager.create({
      rootfsDir: bed.rootfs,
      network: 'none',
      readOnlyRootfs: true,
      userns: {
        mode: 'map',
        uidMappings: [{ containerId: 0, hostId: HOST_ID, size: 65536 }],
        gidMappings: [{ containerId: 0, hostId: HOST_ID, size: 65536 }],
      },
      command: ['/bin/sh', '-c', 'touch /x 2>/dev/null && echo writable || echo read-only; id -u'],
    });
    for (let run = 0; run < 2; run++) {
      await bed.manager.start(info.id);
      expect((await bed.manager.wait(info.id)).exitCode).toBe(0);
    }
    expect(await logOf(info.id)).toBe('read-only\n0\nread-only\n0\n');
    await bed.manager.remove(info.id);
  });

  it('joins a bridge network the host owns from inside the namespace, for the init and for exec', async () => {
    const runBytes = randomBytes(4);
    const runId = runBytes.toString('hex');
    // A /24 inside 10.200.0.0/13 picked by the run id, as test/runtime/network.test.ts does.
    const subnet = `10.${200 + ((runBytes[0] ?? 0) % 8)}.${runBytes[1] ?? 0}.0/24`;
    const options: BridgeNetworkOptions = {
      name: `u${runId}`,
      bridge: `flu${runId}`,
      table: `flotilla_u${runId}`,
      subnet,
      stateDir: join(bed.root, 'bridge-state'),
    };
    const unregister = await registerRun(`userns-${runId}`, runId, options);
    const network = new BridgeNetwork(options);
    const manager = new ContainerManager({ stateDir: join(bed.root, 'bridge-state'), network });
    try {
      const info = await manager.create({
        rootfsDir: bed.rootfs,
        userns: { mode: 'auto' },
        command: ['sleep', '1000'],
      });
      const started = await manager.start(info.id);
      const address = started.network?.ipAddress ?? '';
      expect(address.startsWith(subnet.split('.').slice(0, 3).join('.'))).toBe(true);
      const exec = await manager.exec(info.id, {
        args: ['sh', '-c', 'id -u; ip -4 -o addr show eth0'],
      });
      let output = '';
      exec.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => exec.on('close', resolve));
      expect(code).toBe(0);
      expect(output).toMatch(new RegExp(`^0\\n.*eth0\\s+inet ${address.replace(/\./g, '\\.')}/`));
      await manager.remove(info.id, { force: true });
    } finally {
      await network.remove();
      await unregister();
    }
  });

  it('gives `run --userns=auto` containers distinct ranges, and `exec` joins the namespace', async () => {
    const ids: string[] = [];
    for (const name of ['auto-1', 'auto-2']) {
      const run = await flotilla(
        'container',
        'run',
        '-d',
        '--name',
        name,
        '--rootfs',
        bed.rootfs,
        '--network',
        'none',
        '--userns=auto',
        'sleep',
        '1000',
      );
      expect(run).toMatchObject({ code: 0, stderr: '' });
      ids.push(run.stdout.trim());
    }
    const hostStarts: number[] = [];
    for (const name of ['auto-1', 'auto-2']) {
      const [info] = JSON.parse((await flotilla('container', 'inspect', name)).stdout) as ContainerInfo[];
      const pid = info?.state.pid ?? 0;
      const [containerId, hostId, size] = (await readFile(`/proc/${pid}/uid_map`, 'utf8'))
        .trim()
        .split(/\s+/);
      expect([containerId, size]).toEqual(['0', '65536']);
      expect(info?.userNamespace?.uidMappings).toEqual([
        { containerId: 0, hostId: Number(hostId), size: 65536 },
      ]);
      expect((await statusIds(pid, 'Uid'))[0]).toBe(Number(hostId));
      hostStarts.push(Number(hostId));
      expect(
        await flotilla('container', 'exec', name, 'sh', '-c', 'id -u; cat /proc/self/uid_map'),
      ).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(new RegExp(`^0\\n\\s*0\\s+${hostId}\\s+65536\\n$`)),
      });
    }
    const [first = 0, second = 0] = hostStarts;
    expect(Math.abs(first - second)).toBeGreaterThanOrEqual(65536);
    for (const name of ['auto-1', 'auto-2']) {
      expect(await flotilla('container', 'rm', '-f', name)).toMatchObject({ code: 0 });
    }
    // Removed containers free their ranges: the next one gets the first again.
    const again = await flotilla(
      'container',
      'run',
      '--rm',
      '--rootfs',
      bed.rootfs,
      '--network',
      'none',
      '--userns',
      'auto',
      'cat',
      '/proc/self/uid_map',
    );
    expect(again).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(new RegExp(`^\\s*0\\s+${Math.min(first, second)}\\s+65536\\n$`)),
    });
    expect(ids).toHaveLength(2);
  });

  it("takes FLOTILLA_USERNS=auto as the node's default, as Docker's userns-remap, and --userns=host opts out", async () => {
    const run = (...flags: string[]): Promise<FlotillaResult> =>
      runFlotilla(
        [
          'container',
          'run',
          '--rm',
          '--rootfs',
          bed.rootfs,
          '--network',
          'none',
          ...flags,
          'cat',
          '/proc/self/uid_map',
        ],
        { env: { FLOTILLA_STATE_DIR: cliState, FLOTILLA_USERNS: 'auto' }, cwd: repo },
      );
    expect(await run()).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\s*0\s+\d+\s+65536\n$/) });
    expect(await run('--userns=host')).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^\s*0\s+0\s+4294967295\n$/),
    });
  });

  it('maps with `--uidmap`/`--gidmap` as podman does', async () => {
    const result = await flotilla(
      'container',
      'run',
      '--rm',
      '--rootfs',
      bed.rootfs,
      '--network',
      'none',
      '--uidmap',
      '0:500000:1000',
      '--uidmap',
      '1000:600000:1',
      '--gidmap',
      '0:700000:65536',
      '-u',
      'web',
      '/bin/sh',
      '-c',
      'id -u; cat /proc/self/uid_map /proc/self/gid_map',
    );
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').map((line) => line.trim().split(/\s+/).join(' '))).toEqual([
      '1000',
      '0 500000 1000',
      '1000 600000 1',
      '0 700000 65536',
      '',
    ]);
  });

  it('names the kernel requirement when a layer cannot be idmapped, and leaves no process behind', async () => {
    // sysfs has no idmapped mounts: the shim fails before releasing the init, which must then end.
    const result = await flotilla(
      'container',
      'run',
      '--rm',
      '--rootfs',
      '/sys/kernel/mm',
      '--network',
      'none',
      '--uidmap',
      '0:470000:65536',
      'true',
    );
    expect(result).toMatchObject({
      code: 126,
      stderr: expect.stringMatching(/idmapping layer \/sys\/kernel\/mm .*idmapped mounts need Linux 5.12\+/),
    });
    const stranded = await until('the init of the failed start to end', async () => {
      const mapped: number[] = [];
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const map = await readFile(`/proc/${entry}/uid_map`, 'utf8').catch(() => '');
        if (/^\s*0\s+470000\s+65536\s*$/.test(map)) mapped.push(Number(entry));
      }
      return mapped.length === 0 ? mapped : undefined;
    });
    expect(stranded).toEqual([]);
    expect((await flotilla('container', 'ps', '-a', '-q')).stdout).toBe('');
  });

  it.each([
    [['--userns', 'keep-id'], /--userns "keep-id" must be auto or host/],
    [['--uidmap', '0:100000'], /--uidmap "0:100000" must be CONTAINER_ID:HOST_ID:SIZE/],
    [['--userns', 'host', '--uidmap', '0:100000:10'], /cannot be combined/],
    [['--uidmap', '1:100000:10'], /root \(0\) is outside its user namespace/],
    [['--uidmap', '0:100000:10', '-u', 'web'], /uid 1000 is outside its user namespace/],
    [['--uidmap', '0:100000:10', '--uidmap', '5:200000:10'], /overlap on the container side/],
  ])('refuses %j with exit 125 and creates nothing', async (flags, message) => {
    const result = await flotilla(
      'container',
      'run',
      '--rm',
      '--rootfs',
      bed.rootfs,
      '--network',
      'none',
      ...flags,
      'true',
    );
    expect(result).toMatchObject({ code: 125, stdout: '', stderr: expect.stringMatching(message) });
    expect((await flotilla('container', 'ps', '-a', '-q')).stdout).toBe('');
  });
});
