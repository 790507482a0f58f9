// `container run --env-file/--label/--label-file` and `container ps --filter` end to end with the real
// executable: what the container's environment holds, what inspect shows, which containers ps lists.
// Needs root and a current build.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireFreshBuild, runFlotilla, type FlotillaResult } from '../cli/flotilla-process';
import { containerTestBed, type ContainerTestBed } from './containers.fixture';

const repo = join(__dirname, '..', '..');
let bed: ContainerTestBed;
beforeAll(async () => {
  requireFreshBuild();
  bed = await containerTestBed('container-labels');
});
afterAll(() => bed?.cleanup());

function flotilla(...args: string[]): Promise<FlotillaResult> {
  return runFlotilla(args, {
    env: { FLOTILLA_STATE_DIR: bed.stateDir, FROM_CALLER: 'inherited' },
    cwd: repo,
  });
}

function names(result: FlotillaResult): string[] {
  return result.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/).pop() ?? '')
    .sort();
}

describe('container run --env-file and labels', () => {
  it('reads env files (a later -e wins), sets labels inspect shows, and filters ps by label, name and status', async () => {
    const envFile = join(bed.root, 'app.env');
    await writeFile(
      envFile,
      '# app settings\nGREETING=hello there\n\nFROM_CALLER\nNOT_SET_ANYWHERE\nLEVEL=info\n',
    );
    const labelFile = join(bed.root, 'labels');
    await writeFile(labelFile, 'team=web\n# a comment\ntier=back\n');
    const base = ['container', 'run', '--rootfs', bed.rootfs, '--network', 'none'];

    const run = await flotilla(
      ...base,
      '--name',
      'labelled-job',
      '--env-file',
      envFile,
      '-e',
      'LEVEL=debug',
      '--label-file',
      labelFile,
      '-l',
      'tier=front',
      '--label',
      'beta',
      '/bin/sh',
      '-c',
      'echo "$GREETING|$FROM_CALLER|${NOT_SET_ANYWHERE-unset}|$LEVEL"',
    );
    expect(run).toEqual({ code: 0, stdout: 'hello there|inherited|unset|debug\n', stderr: '' });
    const inspect = await flotilla('container', 'inspect', 'labelled-job');
    const [info] = JSON.parse(inspect.stdout) as Array<{ spec: { labels?: Record<string, string> } }>;
    expect(info?.spec.labels).toEqual({ team: 'web', tier: 'front', beta: '' });

    const detached = await flotilla(
      ...base,
      '-d',
      '--name',
      'plain-sleeper',
      '-l',
      'team=ops',
      'sleep',
      '60',
    );
    expect(detached.code).toBe(0);

    expect(names(await flotilla('container', 'ps', '-a', '--filter', 'label=team'))).toEqual([
      'labelled-job',
      'plain-sleeper',
    ]);
    expect(names(await flotilla('container', 'ps', '-a', '--filter', 'label=tier=front'))).toEqual([
      'labelled-job',
    ]);
    expect(names(await flotilla('container', 'ps', '-a', '-f', 'label=team', '-f', 'label=beta'))).toEqual([
      'labelled-job',
    ]);
    expect(names(await flotilla('container', 'ps', '-a', '--filter', 'name=sleep'))).toEqual([
      'plain-sleeper',
    ]);
    // A status filter looks past running containers without -a, as docker ps does.
    expect(names(await flotilla('container', 'ps', '--filter', 'status=exited'))).toEqual(['labelled-job']);
    expect(names(await flotilla('container', 'ps', '--filter', 'status=running'))).toEqual(['plain-sleeper']);

    const refused = await flotilla('container', 'ps', '--filter', 'status=paused');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--filter "status=paused"');
    // A missing --env-file is ours to refuse (Node 20 would claim the flag without bin/flotilla's
    // `node --`), through the harness and through the executable's own #! line as a shell runs it.
    const absentEnv = join(bed.root, 'absent.env');
    const missingEnv = await flotilla(...base, '--env-file', absentEnv, 'true');
    expect(missingEnv.code).toBe(125);
    expect(missingEnv.stderr).toContain(`--env-file ${absentEnv}: ENOENT`);
    const direct = spawnSync(join(repo, 'bin', 'flotilla'), [...base, '--env-file', absentEnv, 'true'], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', FLOTILLA_STATE_DIR: bed.stateDir },
      encoding: 'utf8',
    });
    expect({ status: direct.status, stderr: direct.stderr }).toEqual({
      status: 125,
      stderr: expect.stringContaining(`--env-file ${absentEnv}: ENOENT`),
    });
    const missingFile = await flotilla(...base, '--label-file', join(bed.root, 'absent.labels'), 'true');
    expect(missingFile.code).toBe(125);
    expect(missingFile.stderr).toContain('absent.labels');
    // Through the CLI, whose runtime has the network: each container's namespace goes with it.
    expect((await flotilla('container', 'rm', '-f', 'labelled-job', 'plain-sleeper')).code).toBe(0);
  });
});
