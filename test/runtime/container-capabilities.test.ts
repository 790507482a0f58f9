// `container run --cap-add/--cap-drop` end to end: the capability sets the container's init and an
// exec'd process hold (/proc/PID/status), ping needing NET_RAW, an unknown name refused with 125.
// Needs root and a current build.
import { join } from 'node:path';
import { requireFreshBuild, runFlotilla, type FlotillaResult } from '../cli/flotilla-process';
import { containerTestBed, type ContainerTestBed } from './containers.fixture';

const repo = join(__dirname, '..', '..');
const DOCKER_DEFAULT = 0xa80425fbn;
const NET_RAW = 1n << 13n;
const SYS_ADMIN = 1n << 21n;
let bed: ContainerTestBed;
beforeAll(async () => {
  requireFreshBuild();
  bed = await containerTestBed('container-caps');
});
afterAll(() => bed?.cleanup());

function flotilla(...args: string[]): Promise<FlotillaResult> {
  return runFlotilla(args, { env: { FLOTILLA_STATE_DIR: bed.stateDir }, cwd: repo });
}

function run(...args: string[]): Promise<FlotillaResult> {
  return flotilla('container', 'run', '--rm', '--rootfs', bed.rootfs, ...args);
}

/** A capability set line of /proc/PID/status ("CapEff:\t00000000a80425fb") as a number. */
function capabilitySet(status: string, set: 'CapEff' | 'CapBnd' | 'CapPrm'): bigint {
  const hex = new RegExp(`^${set}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1];
  if (hex === undefined) throw new Error(`no ${set} line in ${JSON.stringify(status)}`);
  return BigInt(`0x${hex}`);
}

describe('container run --cap-add and --cap-drop', () => {
  it("starts from Docker's default 14", async () => {
    const result = await run('--network', 'none', 'cat', '/proc/1/status');
    expect(result.code).toBe(0);
    expect(capabilitySet(result.stdout, 'CapEff')).toBe(DOCKER_DEFAULT);
    expect(capabilitySet(result.stdout, 'CapBnd')).toBe(DOCKER_DEFAULT);
  });

  it('takes NET_RAW away with --cap-drop NET_RAW, so ping is refused where it works by default', async () => {
    const ping = ['ping', '-c', '1', '-W', '2', '127.0.0.1'];
    expect((await run('--network', 'host', ...ping)).code).toBe(0);
    const dropped = await run('--network', 'host', '--cap-drop', 'NET_RAW', ...ping);
    expect(dropped.code).not.toBe(0);
    expect(dropped.stderr).toContain('permission denied');
    const status = await run('--network', 'none', '--cap-drop', 'cap_net_raw', 'cat', '/proc/1/status');
    expect(capabilitySet(status.stdout, 'CapEff')).toBe(DOCKER_DEFAULT & ~NET_RAW);
  });

  it('adds SYS_ADMIN with --cap-add, for the init and for an exec', async () => {
    const result = await run('--network', 'none', '--cap-add', 'SYS_ADMIN', 'cat', '/proc/1/status');
    expect(capabilitySet(result.stdout, 'CapEff')).toBe(DOCKER_DEFAULT | SYS_ADMIN);

    const name = `caps-${process.pid}`;
    const started = await flotilla(
      'container',
      'run',
      '-d',
      '--name',
      name,
      '--rootfs',
      bed.rootfs,
      '--network',
      'none',
      '--cap-add',
      'CAP_SYS_ADMIN',
      '--cap-drop',
      'KILL',
      'sleep',
      '60',
    );
    expect(started.code).toBe(0);
    const exec = await flotilla('container', 'exec', name, 'cat', '/proc/self/status');
    expect(capabilitySet(exec.stdout, 'CapEff')).toBe((DOCKER_DEFAULT | SYS_ADMIN) & ~(1n << 5n));
    expect((await flotilla('container', 'rm', '-f', name)).code).toBe(0);
  });

  it('runs with only the added ones after --cap-drop ALL, still as the user asked for', async () => {
    const result = await run(
      '--network',
      'none',
      '--cap-drop',
      'ALL',
      '--cap-add',
      'chown',
      'cat',
      '/proc/1/status',
    );
    expect(result.code).toBe(0);
    expect(capabilitySet(result.stdout, 'CapEff')).toBe(1n);
    expect(capabilitySet(result.stdout, 'CapBnd')).toBe(1n);
    const user = await run(
      '--network',
      'none',
      '-u',
      'web',
      '--cap-add',
      'SYS_ADMIN',
      'cat',
      '/proc/1/status',
    );
    expect(capabilitySet(user.stdout, 'CapEff')).toBe(0n);
    expect(capabilitySet(user.stdout, 'CapBnd')).toBe(DOCKER_DEFAULT | SYS_ADMIN);
  });

  it('refuses an unknown capability with exit 125 before creating anything', async () => {
    const result = await run('--network', 'none', '--cap-add', 'FLY', 'true');
    expect(result.code).toBe(125);
    expect(result.stderr).toContain('unknown capability "FLY"');
    expect((await flotilla('container', 'ps', '-a', '-q')).stdout).toBe('');
  });
});
