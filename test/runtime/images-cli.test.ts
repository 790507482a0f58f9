// `flotilla image` end to end on a real state dir: load the base image, build with a RUN step in a real
// container, push to a registry on loopback, pull into another node's state dir, and list it there.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRegistry, stopProcess, type RunningRegistry } from '@flotilla/cluster';
import { requireFreshBuild, startFlotilla } from '../cli/flotilla-process';

let work: string;
let registry: RunningRegistry;

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('this test needs root (image build runs RUN steps in containers)');
  requireFreshBuild();
  work = mkdtempSync(join(tmpdir(), 'flotilla-image-cli-'));
  registry = await startRegistry({
    dataDir: join(work, 'registry'),
    logDir: join(work, 'logs'),
    port: await freePort(),
  });
});

afterAll(async () => {
  if (registry !== undefined) await stopProcess(registry.pid);
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** The real `flotilla` executable, as users run it, against one node's state dir. */
function flotilla(
  stateDir: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return startFlotilla(['image', ...args], { env: { FLOTILLA_STATE_DIR: stateDir }, cwd: work }).done;
}

describe('flotilla image (end to end)', () => {
  it('builds, pushes and pulls between two nodes', async () => {
    const nodeA = join(work, 'node-a');
    const nodeB = join(work, 'node-b');
    const archive = execFileSync(
      'bash',
      [join(__dirname, '..', '..', 'scripts', 'base-image.sh'), '--print-path'],
      { encoding: 'utf8' },
    ).trim();
    expect(await flotilla(nodeA, 'load', '-i', archive)).toMatchObject({
      code: 0,
      stdout: 'Loaded image: flotilla/busybox:latest\n',
    });

    const contextDir = join(work, 'context');
    mkdirSync(contextDir);
    writeFileSync(
      join(contextDir, 'Containerfile'),
      'FROM flotilla/busybox\nCOPY greeting /etc/greeting\nRUN cat /etc/greeting > /ran\nCMD ["cat", "/ran"]\n',
    );
    writeFileSync(join(contextDir, 'greeting'), 'hello from node a\n');
    const target = `${registry.address}/demo/app:1`;
    const built = await flotilla(nodeA, 'build', '--network', 'none', '-t', target, contextDir);
    expect(built.code).toBe(0);
    expect(built.stdout).toContain('STEP 3/4: RUN cat /etc/greeting > /ran');
    expect(built.stdout).toMatch(/Successfully built [0-9a-f]{12}\nSuccessfully tagged /);

    const pushed = await flotilla(nodeA, 'push', target);
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toMatch(
      new RegExp(`${target.replace(/[.]/g, '\\.')}: digest: sha256:[0-9a-f]{64}`),
    );

    const pulled = await flotilla(nodeB, 'pull', target);
    expect(pulled).toMatchObject({ code: 0 });
    expect(pulled.stdout).toContain('Pull complete');
    const listed = await flotilla(nodeB, 'ls');
    expect(listed.stdout).toMatch(
      new RegExp(`${registry.address.replace(/[.]/g, '\\.')}/demo/app\\s+1\\s+[0-9a-f]{12}`),
    );
    const inspected = JSON.parse((await flotilla(nodeB, 'inspect', target)).stdout) as Array<{
      Config: { Cmd: string[] };
    }>;
    expect(inspected[0]?.Config.Cmd).toEqual(['cat', '/ran']);
  });

  it('commits a container into an image that the next container runs', async () => {
    const node = join(work, 'node-commit');
    const archive = execFileSync(
      'bash',
      [join(__dirname, '..', '..', 'scripts', 'base-image.sh'), '--print-path'],
      {
        encoding: 'utf8',
      },
    ).trim();
    await flotilla(node, 'load', '-i', archive);
    const container = (args: string[]) =>
      startFlotilla(['container', ...args], { env: { FLOTILLA_STATE_DIR: node }, cwd: work }).done;
    expect(
      await container([
        'run',
        '--name',
        'to-commit',
        '--network',
        'none',
        'flotilla/busybox',
        'sh',
        '-c',
        'echo kept > /kept',
      ]),
    ).toMatchObject({ code: 0 });
    const committed = await container([
      'commit',
      '-m',
      'keep a file',
      '-c',
      'CMD ["cat", "/kept"]',
      'to-commit',
      'kept:1',
    ]);
    expect(committed).toMatchObject({ code: 0, stdout: expect.stringMatching(/^sha256:[0-9a-f]{64}\n$/) });
    expect(await container(['run', '--rm', '--network', 'none', 'kept:1'])).toMatchObject({
      code: 0,
      stdout: 'kept\n',
    });
    expect(await container(['rm', 'to-commit'])).toMatchObject({ code: 0 });

    // A running container is paused for the commit by default and runs on afterwards.
    expect(
      await container([
        'run',
        '-d',
        '--name',
        'busy',
        '--network',
        'none',
        'flotilla/busybox',
        'sh',
        '-c',
        'echo a > /a; exec sleep 1000',
      ]),
    ).toMatchObject({ code: 0 });
    expect(await container(['commit', 'busy', 'busy:1'])).toMatchObject({ code: 0 });
    expect(await container(['commit', '--pause=false', 'busy', 'busy:2'])).toMatchObject({ code: 0 });
    expect(await container(['commit', '--pause=maybe', 'busy'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('must be true or false'),
    });
    expect((await container(['ps', '-q'])).stdout).not.toBe('');
    expect(await container(['run', '--rm', '--network', 'none', 'busy:1', 'cat', '/a'])).toMatchObject({
      code: 0,
      stdout: 'a\n',
    });
    expect(await container(['rm', '--force', 'busy'])).toMatchObject({ code: 0 });
  });
});
