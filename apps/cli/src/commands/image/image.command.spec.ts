import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CommanderError, type Command } from 'commander';
import { tarToBuffer } from '@flotilla/runtime';
import { CliContext, describeError, EXIT_FAILURE, EXIT_USAGE } from '../../cli-context';
import { capturedIo } from '../../testing/captured-io';
import { createImageCommand } from './image.command';
import { humanAge } from './image-runtime';

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A one-layer OCI archive named docker.io/library/tiny:1. */
async function tinyArchive(): Promise<Buffer> {
  const layerTar = await tarToBuffer([
    { entry: { name: 'hello.txt', type: 'file', mode: 0o644 }, body: Buffer.from('hello') },
  ]);
  const layer = gzipSync(layerTar);
  const config = Buffer.from(
    JSON.stringify({
      created: '2024-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/hello'] },
      rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: sha256(layer),
          size: layer.length,
        },
      ],
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256(manifest),
        size: manifest.length,
        annotations: { 'io.containerd.image.name': 'docker.io/library/tiny:1' },
      },
    ],
  };
  const file = (name: string, body: Buffer) => ({ entry: { name, type: 'file' as const }, body });
  return tarToBuffer([
    file('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')),
    file('index.json', Buffer.from(JSON.stringify(index))),
    ...[manifest, config, layer].map((blob) => file(`blobs/sha256/${sha256(blob).slice(7)}`, blob)),
  ]);
}

function configure(command: Command, context: CliContext): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => context.io.write(text),
    writeErr: (text) => context.io.writeError(text),
  });
  for (const child of command.commands) configure(child, context);
}

describe('flotilla image', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'flotilla-image-cli-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const run = async (...args: string[]) => {
    const io = capturedIo({
      env: { FLOTILLA_STATE_DIR: join(work, 'state') },
      cwd: work,
      now: new Date('2024-01-03T00:00:00Z'),
    });
    const context = new CliContext(io);
    const command = createImageCommand(context);
    configure(command, context);
    let code: number;
    try {
      await command.parseAsync(args, { from: 'user' });
      code = context.exitCode;
    } catch (error) {
      if (error instanceof CommanderError) code = EXIT_USAGE;
      else {
        io.writeError(`${describeError(error)}\n`);
        code = EXIT_FAILURE;
      }
    }
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  };

  it('loads, lists, tags, inspects, saves and removes images', async () => {
    writeFileSync(join(work, 'tiny.tar'), await tinyArchive());
    expect(await run('load', '-i', 'tiny.tar')).toEqual({
      code: 0,
      stdout: 'Loaded image: tiny:1\n',
      stderr: '',
    });
    expect((await run('tag', 'tiny:1', 'localhost:5000/team/tiny:v2')).code).toBe(0);

    const listed = await run('ls');
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(lines.slice(1).map((line) => line.split(/\s{3,}/).slice(0, 2))).toEqual([
      ['localhost:5000/team/tiny', 'v2'],
      ['tiny', '1'],
    ]);
    expect(lines[1]).toContain('2 days ago');

    const inspected = JSON.parse((await run('inspect', 'tiny:1')).stdout) as Array<{
      RepoTags: string[];
      Config: { Cmd: string[] };
    }>;
    expect(inspected[0]?.RepoTags).toEqual(['tiny:1', 'localhost:5000/team/tiny:v2']);
    expect(inspected[0]?.Config.Cmd).toEqual(['/hello']);

    expect((await run('save', '-o', 'saved.tar', 'tiny:1')).code).toBe(0);
    expect(existsSync(join(work, 'saved.tar'))).toBe(true);

    expect(await run('rm', 'localhost:5000/team/tiny:v2')).toMatchObject({
      code: 0,
      stdout: 'Untagged: localhost:5000/team/tiny:v2\n',
    });
    const removed = await run('rm', 'tiny:1');
    expect(removed.stdout).toMatch(/^Untagged: tiny:1\nDeleted: sha256:[0-9a-f]{64}\n$/);
    expect((await run('ls', '-q')).stdout).toBe('');

    expect(await run('load', '-q', '-i', 'saved.tar')).toMatchObject({ code: 0, stdout: 'tiny:1\n' });
  });

  it('reports missing images and bad usage with the right exit codes', async () => {
    expect(await run('inspect', 'nothing:here')).toMatchObject({
      code: 1,
      stdout: '[]\n',
      stderr: expect.stringContaining('no image nothing:here on this node'),
    });
    expect(await run('rm', 'nothing:here')).toMatchObject({ code: 1 });
    expect((await run('tag', 'only-one')).code).toBe(EXIT_USAGE);
    expect(await run('tag', 'nothing', 'Bad:Name')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no image nothing'),
    });
  });
});

describe('image output helpers', () => {
  it('prints ages as Docker does', () => {
    const now = new Date('2024-01-10T00:00:00Z');
    expect([
      humanAge('2024-01-09T23:59:30Z', now),
      humanAge('2024-01-03T00:00:00Z', now),
      humanAge(undefined, now),
    ]).toEqual(['30 seconds ago', '1 week ago', 'N/A']);
  });
});
