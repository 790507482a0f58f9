// `container run --restart` without a daemon: the shim's exit command (`container restart-on-exit`)
// applies the policy. on-failure:N restarts a failing container N times and then leaves it exited;
// `container stop` is never undone by always. Needs root and a current build.
import { join } from 'node:path';
import { requireFreshBuild, runFlotilla, type FlotillaResult } from '../cli/flotilla-process';
import { containerTestBed, type ContainerTestBed } from './containers.fixture';

const repo = join(__dirname, '..', '..');
let bed: ContainerTestBed;
beforeAll(async () => {
  requireFreshBuild();
  bed = await containerTestBed('container-restart');
});
afterAll(() => bed?.cleanup());

interface Inspected {
  restartCount: number;
  restartPolicyStopped?: string;
  state: { status: string; exit?: { exitCode: number } };
}

function flotilla(...args: string[]): Promise<FlotillaResult> {
  return runFlotilla(args, { env: { FLOTILLA_STATE_DIR: bed.stateDir }, cwd: repo });
}

async function inspect(name: string): Promise<Inspected> {
  const result = await flotilla('container', 'inspect', name);
  const [info] = JSON.parse(result.stdout) as Inspected[];
  if (info === undefined) throw new Error(`no container ${name}: ${result.stderr}`);
  return info;
}

/** Polls inspect until the restart policy has given its last word (it runs in the exit hook). */
async function settled(name: string): Promise<Inspected> {
  for (let attempt = 1; ; attempt++) {
    const info = await inspect(name);
    if (info.restartPolicyStopped !== undefined || attempt >= 150) return info;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('container run --restart', () => {
  it('restarts a container that exits 1 twice under on-failure:2, then leaves it exited', async () => {
    const run = await flotilla(
      'container',
      'run',
      '-d',
      '--name',
      'fails',
      '--restart',
      'on-failure:2',
      '--rootfs',
      bed.rootfs,
      '--network',
      'none',
      'sh',
      '-c',
      'echo ran; exit 1',
    );
    expect(run.code).toBe(0);
    const info = await settled('fails');
    expect(info).toMatchObject({
      restartCount: 2,
      restartPolicyStopped: '2 restarts reached',
      state: { status: 'stopped', exit: { exitCode: 1 } },
    });
    expect((await flotilla('container', 'logs', 'fails')).stdout).toBe('ran\nran\nran\n');
    // Through the CLI, whose runtime has the network: the container's namespace goes with it.
    expect((await flotilla('container', 'rm', 'fails')).code).toBe(0);
  });

  it('leaves a container stopped with `container stop` stopped under always', async () => {
    const run = await flotilla(
      'container',
      'run',
      '-d',
      '--name',
      'server',
      '--restart',
      'always',
      '--rootfs',
      bed.rootfs,
      '--network',
      'none',
      'sleep',
      '600',
    );
    expect(run.code).toBe(0);
    expect((await flotilla('container', 'stop', '-t', '1', 'server')).code).toBe(0);
    expect(await settled('server')).toMatchObject({
      restartCount: 0,
      restartPolicyStopped: 'stopped by the user',
      state: { status: 'stopped' },
    });
    // A start by hand puts the policy back in force.
    expect((await flotilla('container', 'start', 'server')).code).toBe(0);
    const started = await inspect('server');
    expect(started.state.status).toBe('running');
    expect(started.restartPolicyStopped).toBeUndefined();
    expect((await flotilla('container', 'rm', '-f', 'server')).code).toBe(0);
  });

  it('refuses a policy it does not know and one combined with --rm, with 125', async () => {
    const base = ['container', 'run', '--rootfs', bed.rootfs, '--network', 'none'];
    const unknown = await flotilla(...base, '--restart', 'sometimes', 'true');
    expect(unknown.code).toBe(125);
    expect(unknown.stderr).toContain('--restart "sometimes"');
    const withRm = await flotilla(...base, '--rm', '--restart', 'always', 'true');
    expect(withRm.code).toBe(125);
    expect(withRm.stderr).toContain('--restart and --rm conflict');
    const countOnAlways = await flotilla(...base, '--restart', 'always:3', 'true');
    expect(countOnAlways.code).toBe(125);
  });
});
