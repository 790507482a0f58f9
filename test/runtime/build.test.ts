// The Containerfile builder end to end: the busybox base image, COPY/ADD from a context, RUN executed in
// real containers by our runtime, one layer per filesystem step, the build cache, and FROM scratch.
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ContainerManager,
  ContainerRunStep,
  ImageBuilder,
  ImageRootfsProvider,
  ImageStore,
  loadImageArchive,
  readTar,
  SnapshotStore,
  tarToBuffer,
  type BuildProgress,
  type OverlayMount,
  type StoredImage,
} from '@flotilla/runtime';
import { createGunzip, gzipSync } from 'node:zlib';

const baseImageScript = join(__dirname, '..', '..', 'scripts', 'base-image.sh');
let work: string;
let store: ImageStore;
let containers: ContainerManager;
const mounted: string[] = [];

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error(
      'this test needs root (RUN steps run in real containers; layers are unpacked with owners)',
    );
  work = mkdtempSync(join(tmpdir(), 'flotilla-build-'));
  store = new ImageStore({ stateDir: join(work, 'state') });
  containers = new ContainerManager({
    stateDir: join(work, 'state'),
    images: new ImageRootfsProvider(store),
  });
  const archive = execFileSync('bash', [baseImageScript, '--print-path'], { encoding: 'utf8' }).trim();
  await loadImageArchive(store, archive);
});

afterAll(() => {
  for (const target of mounted.splice(0)) execFileSync('umount', [target]);
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

function context(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(work, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

async function build(
  contextDir: string,
  options: { tags?: string[]; buildArgs?: Record<string, string>; events?: BuildProgress[] } = {},
): Promise<StoredImage> {
  return new ImageBuilder({
    store,
    contextDir,
    runStep: new ContainerRunStep({ containers }),
    ...(options.tags ? { tags: options.tags } : {}),
    ...(options.buildArgs ? { buildArgs: options.buildArgs } : {}),
    onProgress: (event) => options.events?.push(event),
  }).build();
}

async function rootOf(image: StoredImage, key: string): Promise<string> {
  const rootfs = await new SnapshotStore(store).prepare({ key, image });
  const overlay: OverlayMount = rootfs.mount;
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', overlay.options.join(','), overlay.target]);
  mounted.push(overlay.target);
  return overlay.target;
}

describe('image builder', () => {
  it('builds COPY, ADD, WORKDIR, RUN and metadata steps into one layer per filesystem step, then hits the cache', async () => {
    const bundle = gzipSync(
      await tarToBuffer([
        {
          entry: { name: 'bin/tool', type: 'file', mode: 0o755 },
          body: Buffer.from('#!/bin/sh\necho tool\n'),
        },
      ]),
    );
    const dir = context('app', {
      Containerfile: [
        'ARG BASE=flotilla/busybox:latest',
        'FROM $BASE',
        'ARG GREETING=hello',
        'ENV APP_HOME=/srv/app \\',
        '    MODE=production',
        'WORKDIR $APP_HOME',
        'COPY app.txt ./',
        'COPY --chown=33:33 conf/ /etc/app/',
        'COPY app.txt /tmp/',
        'ADD bundle.tar.gz /opt/bundle/',
        'RUN echo "$GREETING from $(pwd) in $MODE" > run.txt && rm /bin/vi',
        'USER www-data',
        'EXPOSE 8080 53/udp',
        'LABEL org.example.team=infra',
        'STOPSIGNAL SIGINT',
        'ENTRYPOINT ["/bin/sh", "-c"]',
        'CMD ["cat /srv/app/run.txt"]',
      ].join('\n'),
      'app.txt': 'application',
      'conf/app.conf': 'port=8080',
      'bundle.tar.gz': bundle,
    });
    const events: BuildProgress[] = [];
    const image = await build(dir, { tags: ['example/app:1'], events });
    const base = await store.resolve('flotilla/busybox');

    expect(image.names).toEqual(['docker.io/example/app:1']);
    // base + WORKDIR (missing dir) + COPY + COPY + COPY + ADD + RUN
    expect(image.manifest.layers).toHaveLength(base.manifest.layers.length + 6);
    expect(image.config.config).toMatchObject({
      Env: expect.arrayContaining(['APP_HOME=/srv/app', 'MODE=production']),
      WorkingDir: '/srv/app',
      User: 'www-data',
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      Labels: { 'org.example.team': 'infra' },
      StopSignal: 'SIGINT',
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['cat /srv/app/run.txt'],
    });
    expect(events.some((event) => event.kind === 'cached')).toBe(false);

    const root = await rootOf(image, 'inspect-app');
    expect(readFileSync(join(root, 'srv/app/app.txt'), 'utf8')).toBe('application');
    expect(readFileSync(join(root, 'srv/app/run.txt'), 'utf8')).toBe('hello from /srv/app in production\n');
    expect(lstatSync(join(root, 'etc/app/app.conf')).uid).toBe(33);
    expect(readFileSync(join(root, 'opt/bundle/bin/tool'), 'utf8')).toContain('echo tool');
    expect(existsSync(join(root, 'bin/vi'))).toBe(false);
    expect(readlinkSync(join(root, 'bin/ls'))).toBe('/bin/busybox');
    // COPY into /tmp kept the base image's sticky, world-writable /tmp.
    expect(lstatSync(join(root, 'tmp')).mode & 0o7777).toBe(0o1777);

    const again: BuildProgress[] = [];
    const rebuilt = await build(dir, { tags: ['example/app:1'], events: again });
    expect(rebuilt.id).toBe(image.id);
    // Every step but FROM and ARG has a cached result: ENV, WORKDIR, 3 COPY, ADD, RUN and 6 metadata steps.
    expect(again.filter((event) => event.kind === 'cached')).toHaveLength(13);
    expect(again.some((event) => event.kind === 'output')).toBe(false);

    const other = await build(dir, { buildArgs: { GREETING: 'hi' }, tags: ['example/app:hi'] });
    expect(other.id).not.toBe(image.id);
    const otherRoot = await rootOf(other, 'inspect-hi');
    expect(readFileSync(join(otherRoot, 'srv/app/run.txt'), 'utf8')).toBe('hi from /srv/app in production\n');
    expect(
      (await store.list())
        .map((summary) => summary.names)
        .flat()
        .sort(),
    ).toEqual(['example/app:1', 'example/app:hi', 'flotilla/busybox:latest']);
    // Build steps' images stay for the cache but only show with --all.
    expect((await store.list()).every((summary) => summary.names.length > 0)).toBe(true);
    expect((await store.list({ all: true })).length).toBeGreaterThan(10);
  });

  it('builds FROM scratch with only COPY and metadata', async () => {
    const dir = context('scratch', {
      Containerfile: 'FROM scratch\nCOPY hello /hello\nCMD ["/hello"]\n',
      hello: 'static',
    });
    const image = await build(dir, { tags: ['scratch-app'] });
    expect(image.manifest.layers).toHaveLength(1);
    expect(image.config.config?.Cmd).toEqual(['/hello']);
  });

  it('stores HEALTHCHECK in the image config as Docker does, and NONE turns an inherited one off', async () => {
    const dir = context('health', {
      Containerfile: [
        'FROM flotilla/busybox',
        'HEALTHCHECK --interval=5s --timeout=3s --retries=2 CMD wget -q -O- http://localhost/ || exit 1',
      ].join('\n'),
    });
    const image = await build(dir, { tags: ['health-app'] });
    expect(image.config.config?.Healthcheck).toEqual({
      Test: ['CMD-SHELL', 'wget -q -O- http://localhost/ || exit 1'],
      Interval: 5_000_000_000,
      Timeout: 3_000_000_000,
      Retries: 2,
    });
    const child = context('health-off', { Containerfile: 'FROM health-app\nHEALTHCHECK NONE\n' });
    expect((await build(child, { tags: ['health-off'] })).config.config?.Healthcheck).toEqual({
      Test: ['NONE'],
    });
    const bad = context('health-bad', {
      Containerfile: 'FROM flotilla/busybox\nHEALTHCHECK --interval=soon CMD true\n',
    });
    await expect(build(bad, { tags: ['health-bad'] })).rejects.toThrow('line 2: HEALTHCHECK --interval=soon');
  });

  it('copies from an earlier stage with symlinks resolved inside that stage, never on the host', async () => {
    const dir = context('multi-stage', {
      Containerfile: [
        'FROM flotilla/busybox AS builder',
        'RUN mkdir -p /out && echo compiled > /out/app && chmod 755 /out/app && ln -s /out/app /out/link && ln -s /etc/shadow /out/evil',
        'FROM scratch',
        'COPY --from=builder /out/app /app',
        'COPY --from=builder /out/link /app-from-link',
        'COPY --from=0 /bin/sh /bin/sh',
        'CMD ["/app"]',
      ].join('\n'),
    });
    const image = await build(dir, { tags: ['multi:1'] });
    expect(image.manifest.layers).toHaveLength(3);
    const contents = new Map<string, number>();
    for (const layer of image.manifest.layers) {
      for await (const member of readTar(store.blobs.open(layer.digest).pipe(createGunzip()))) {
        if (member.entry.type === 'file') contents.set(member.entry.name, member.entry.size);
      }
    }
    expect(contents.get('app')).toBe('compiled\n'.length);
    expect(contents.get('app-from-link')).toBe('compiled\n'.length);
    // /bin/sh is an absolute symlink to /bin/busybox inside the stage: the stage's busybox is copied.
    expect(contents.get('bin/sh')).toBe(lstatSync('/bin/busybox').size);

    // The host has an /etc/shadow; the builder stage does not, so these must fail rather than leak it.
    writeFileSync(
      join(dir, 'Containerfile'),
      'FROM flotilla/busybox AS builder\nRUN ln -s /etc/shadow /evil\nFROM scratch\nCOPY --from=builder /evil /stolen\n',
    );
    await expect(build(dir)).rejects.toThrow(
      /line 4: COPY --from source "\/evil" does not exist in that image/,
    );
    writeFileSync(
      join(dir, 'Containerfile'),
      'FROM flotilla/busybox AS builder\nFROM scratch\nCOPY --from=builder /../../../etc/shadow /stolen\n',
    );
    await expect(build(dir)).rejects.toThrow(/does not exist in that image/);
  });

  it('drops the build cache on request, keeping named images', async () => {
    const dir = context('cache-drop', {
      Containerfile: 'FROM flotilla/busybox\nENV STEP=one\nCOPY file /file\n',
      file: 'content',
    });
    const image = await build(dir, { tags: ['cache-drop:1'] });
    expect((await store.list({ all: true })).some((summary) => summary.names.length === 0)).toBe(true);
    expect(await store.dropBuildCache()).toBeGreaterThan(0);
    await store.gc();
    expect((await store.list({ all: true })).every((summary) => summary.names.length > 0)).toBe(true);
    expect((await store.resolve('cache-drop:1')).id).toBe(image.id);
    const events: BuildProgress[] = [];
    await build(dir, { tags: ['cache-drop:1'], events });
    expect(events.some((event) => event.kind === 'cached')).toBe(false);
  });

  it('leaves out what .dockerignore excludes, and refuses to COPY an excluded file by name', async () => {
    const dir = context('ignoring', {
      Containerfile: 'FROM scratch\nCOPY . /app/\n',
      '.dockerignore': '*.log\nsecret\n!keep.log\n',
      'main.js': 'code',
      'debug.log': 'noise',
      'keep.log': 'wanted',
      'secret/key': 'private',
    });
    const image = await build(dir);
    const names: string[] = [];
    const blob = store.blobs.open(image.manifest.layers[0]?.digest ?? '');
    for await (const member of readTar(blob.pipe(createGunzip()))) names.push(member.entry.name);
    expect(names.sort()).toEqual([
      'app/',
      'app/.dockerignore',
      'app/Containerfile',
      'app/keep.log',
      'app/main.js',
    ]);

    writeFileSync(join(dir, 'Containerfile'), 'FROM scratch\nCOPY secret/key /key\n');
    await expect(build(dir)).rejects.toThrow(
      /line 2: COPY source "secret\/key" is excluded by the context's ignore file/,
    );
  });

  it('fails with the line and a reason for bad steps, and with the output of a failing RUN', async () => {
    const outside = context('outside', {
      Containerfile: 'FROM flotilla/busybox\nCOPY ../../etc/passwd /x\n',
    });
    await expect(build(outside)).rejects.toThrow(
      /line 2: COPY source "..\/..\/etc\/passwd" is outside the build context/,
    );
    const missing = context('missing', { Containerfile: 'FROM flotilla/busybox\nCOPY nothing.txt /x\n' });
    await expect(build(missing)).rejects.toThrow(/line 2: COPY source "nothing.txt" does not exist/);
    const evil = await tarToBuffer([
      { entry: { name: '../../escape.txt', type: 'file' }, body: Buffer.from('pwned') },
    ]);
    const hostile = context('hostile-add', {
      Containerfile: 'FROM flotilla/busybox\nADD evil.tar /opt/\n',
      'evil.tar': evil,
    });
    await expect(build(hostile)).rejects.toThrow(/entry of evil.tar "..\/..\/escape.txt" contains ".."/);
    const buildkit = context('buildkit-flags', {
      Containerfile: 'FROM flotilla/busybox\nRUN --mount=type=cache,target=/root/.cache true\n',
    });
    await expect(build(buildkit)).rejects.toThrow(
      /line 2: RUN --mount \(a BuildKit extension\) is not supported/,
    );
    const failing = context('failing', {
      Containerfile: 'FROM flotilla/busybox\nRUN echo about to fail && exit 3\n',
    });
    await expect(build(failing)).rejects.toThrow(
      /RUN \/bin\/sh -c echo about to fail && exit 3 failed \(exit code 3\); last output:\nabout to fail/,
    );
    expect((await containers.list({ all: true })).length).toBe(0);
  });
});
