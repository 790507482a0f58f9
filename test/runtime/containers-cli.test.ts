// `flotilla container ...` end to end with the real executable (bin/flotilla over dist/), and under a
// pseudo-terminal (util-linux `script`) for `run -it`. Needs root and a current build.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireFreshBuild, runFlotilla, type FlotillaResult } from '../cli/flotilla-process';
import { until } from '../support/eventually';
import { containerTestBed, type ContainerTestBed } from './containers.fixture';

const repo = join(__dirname, '..', '..');
let bed: ContainerTestBed;
beforeAll(async () => {
  requireFreshBuild();
  bed = await containerTestBed('containers-cli');
});
afterAll(() => bed?.cleanup());

function flotilla(...args: string[]): Promise<FlotillaResult> {
  return runFlotilla(args, { env: { FLOTILLA_STATE_DIR: bed.stateDir }, cwd: repo });
}

describe('flotilla container', () => {
  it('runs in the foreground with the exit code, output on the right streams, and --rm', async () => {
    const result = await flotilla(
      'container',
      'run',
      '--rm',
      '--rootfs',
      bed.rootfs,
      '--network',
      'none',
      '-e',
      'WHO=you',
      '/bin/sh',
      '-c',
      'echo -n hello; echo " $WHO"; echo oops >&2; exit 3',
    );
    expect(result).toEqual({ code: 3, stdout: 'hello you\n', stderr: 'oops\n' });
    expect((await flotilla('container', 'ps', '-a', '-q')).stdout).toBe('');
  });

  it('runs detached, lists, execs, shows logs, stops and removes by name', async () => {
    const started = await flotilla(
      'container',
      'run',
      '-d',
      '--name',
      'cli-web',
      '--hostname',
      'cli-host',
      '--rootfs',
      bed.rootfs,
      '--network',
      'none',
      '/bin/sh',
      '-c',
      'echo started; exec sleep 1000',
    );
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    const ps = await flotilla('container', 'ps');
    expect(ps.stdout.split('\n')[0]).toMatch(
      /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/,
    );
    expect(ps.stdout).toMatch(new RegExp(`${id.slice(0, 12)} .* Up .* cli-web`));

    const exec = await flotilla(
      'container',
      'exec',
      'cli-web',
      '/bin/sh',
      '-c',
      'hostname; echo -n pid=; echo $$; exit 4',
    );
    expect(exec.code).toBe(4);
    expect(exec.stdout).toMatch(/^cli-host\npid=\d+\n$/);

    const logs = await flotilla('container', 'logs', '--timestamps', 'cli-web');
    expect(logs.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z started\n$/);

    expect(await flotilla('container', 'rm', 'cli-web')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--force'),
    });
    expect(await flotilla('container', 'stop', '-t', '1', 'cli-web')).toMatchObject({
      code: 0,
      stdout: 'cli-web\n',
    });
    expect((await flotilla('container', 'ps', '-a')).stdout).toMatch(/Exited \(137\)/);
    const inspect = JSON.parse((await flotilla('container', 'inspect', 'cli-web')).stdout) as Array<{
      state: { exit: { signal: number } };
    }>;
    expect(inspect[0]?.state.exit.signal).toBe(9);
    expect(await flotilla('container', 'rm', 'cli-web')).toMatchObject({ code: 0 });
    expect(await flotilla('container', 'logs', 'cli-web')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no such container'),
    });
  });

  it('pipes stdin to `run -i` without a terminal, to its end, with back-pressure', async () => {
    const lines = Array.from({ length: 20_000 }, (_, index) => `line ${index}`).join('\n');
    const result = await runFlotilla(
      [
        'container',
        'run',
        '-i',
        '--rm',
        '--rootfs',
        bed.rootfs,
        '--network',
        'none',
        '/bin/sh',
        '-c',
        // The container reads slowly at first, so the shim must hold input back rather than drop it.
        'sleep 1; wc -l; echo done',
      ],
      { env: { FLOTILLA_STATE_DIR: bed.stateDir }, cwd: repo, stdin: `${lines}\n` },
    );
    expect(result).toEqual({ code: 0, stdout: '20000\ndone\n', stderr: '' });
  });

  it('removes a `run -d --rm` container once it exits, with nothing waiting for it', async () => {
    const started = await flotilla(
      'container',
      'run',
      '-d',
      '--rm',
      '--name',
      'cli-gone',
      '--rootfs',
      bed.rootfs,
      '--network',
      'none',
      '/bin/sh',
      '-c',
      'sleep 0.5',
    );
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    // The shim runs `flotilla container rm` in its own place; the directory going is the proof.
    await until(`${id} removed by its shim`, async () => !existsSync(join(bed.stateDir, 'containers', id)));
    expect(await flotilla('container', 'inspect', 'cli-gone')).toMatchObject({ code: 1 });
  });

  it('reports bad flags as usage errors and a missing program with 127', async () => {
    expect(
      await flotilla('container', 'run', '--rootfs', bed.rootfs, '--memory', 'lots', 'true'),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--memory "lots"'),
    });
    const missing = await flotilla(
      'container',
      'run',
      '--rm',
      '--rootfs',
      bed.rootfs,
      '--network',
      'none',
      '/no/such',
    );
    expect(missing).toMatchObject({
      code: 127,
      stderr: expect.stringContaining('executable file not found: /no/such'),
    });
  });

  it('gives `run -it` an interactive shell as PID 1 with the terminal size', async () => {
    const transcript = join(bed.root, 'transcript');
    const cli = `${process.execPath} ${join(repo, 'bin', 'flotilla')} container run -it --rm --rootfs ${bed.rootfs} --network none /bin/sh`;
    const child = execFile('script', ['-qec', `stty rows 33 cols 101; ${cli}`, transcript], {
      cwd: repo,
      env: { ...process.env, FLOTILLA_STATE_DIR: bed.stateDir },
      timeout: 120_000,
    });
    child.stdin?.end('echo pid=$$\nstty size\ntty\nexit 5\n');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const text = await readFile(transcript, 'utf8');
    expect(text).toContain('pid=1');
    expect(text).toContain('33 101');
    // The terminal is the container's own, from its devpts.
    expect(text).toContain('/dev/pts/0');
    // `script -e` exits with the session's code: the shell's `exit 5`, passed through the CLI.
    expect(code).toBe(5);
  }, 180_000);
});
