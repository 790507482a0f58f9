// Container roots as overlay data over shared layers, mounted here the way the shim mounts them, and
// commit turning the upper dir (whiteouts, opaque dirs, hardlinks) into a layer of a new image.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import {
  ImageRootfsProvider,
  ImageStore,
  loadImageArchive,
  readTar,
  SnapshotStore,
  type OverlayMount,
} from '@flotilla/runtime';
import { fixtureImage, ociArchive } from './images.fixtures';

let stateDir: string;
let store: ImageStore;
let snapshots: SnapshotStore;
const mounted: string[] = [];

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (overlay mounts, whiteouts)');
}

function mount(overlay: OverlayMount): string {
  mkdirSync(overlay.target, { recursive: true });
  execFileSync('mount', [
    '-t',
    overlay.type,
    overlay.source,
    '-o',
    overlay.options.join(','),
    overlay.target,
  ]);
  mounted.push(overlay.target);
  return overlay.target;
}

beforeEach(async () => {
  requireRoot();
  stateDir = mkdtempSync(join(tmpdir(), 'flotilla-snapshots-'));
  store = new ImageStore({ stateDir });
  snapshots = new SnapshotStore(store);
  const image = await fixtureImage([
    [
      { entry: { name: 'etc/', type: 'directory' } },
      { entry: { name: 'etc/hostname', type: 'file' }, body: Buffer.from('image') },
      { entry: { name: 'etc/doomed', type: 'file' }, body: Buffer.from('delete me') },
      { entry: { name: 'var/cache/', type: 'directory' } },
      { entry: { name: 'var/cache/old', type: 'file' }, body: Buffer.from('old cache') },
    ],
  ]);
  const archive = join(stateDir, 'image.tar');
  writeFileSync(archive, await ociArchive(image, 'docker.io/library/base:1'));
  await loadImageArchive(store, archive);
});

afterEach(() => {
  for (const target of mounted.splice(0)) execFileSync('umount', [target]);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('snapshots', () => {
  it('describes an overlay whose lowers are the shared layer directories, top first', async () => {
    const image = await store.resolve('base:1');
    const first = await snapshots.prepare({ key: 'c1', image });
    const second = await snapshots.prepare({ key: 'c2', image, target: join(stateDir, 'elsewhere') });
    expect(first.mount).toMatchObject({
      type: 'overlay',
      source: 'overlay',
      target: join(stateDir, 'snapshots/c1/merged'),
    });
    expect(second.mount.target).toBe(join(stateDir, 'elsewhere'));
    // Both containers stand on the very same unpacked layer.
    expect(first.mount.options[0]).toBe(second.mount.options[0]);
    expect(first.mount.options).toEqual([
      `lowerdir=${store.layers.diffDirectory(image.config.rootfs.diff_ids[0] as string)}`,
      `upperdir=${first.upperDir}`,
      `workdir=${first.workDir}`,
    ]);
    await expect(snapshots.prepare({ key: 'c1', image })).rejects.toThrow(/snapshot c1 already exists/);
    await expect(snapshots.prepare({ key: '../x', image })).rejects.toThrow(/must be 1-128 letters/);

    const merged = mount(first.mount);
    writeFileSync(join(merged, 'etc/hostname'), 'container');
    expect(readFileSync(join(first.upperDir, 'etc/hostname'), 'utf8')).toBe('container');
    expect(
      readFileSync(
        join(store.layers.diffDirectory(image.config.rootfs.diff_ids[0] as string), 'etc/hostname'),
        'utf8',
      ),
    ).toBe('image');
  });

  it('commits deletions, opaque directories, hardlinks and new files as a layer of a new image', async () => {
    const base = await store.resolve('base:1');
    const rootfs = await snapshots.prepare({ key: 'work', image: base });
    const merged = mount(rootfs.mount);
    unlinkSync(join(merged, 'etc/doomed'));
    rmSync(join(merged, 'var/cache'), { recursive: true });
    mkdirSync(join(merged, 'var/cache'));
    writeFileSync(join(merged, 'var/cache/new'), 'fresh');
    mkdirSync(join(merged, 'app'));
    writeFileSync(join(merged, 'app/run'), 'run', { mode: 0o755 });
    linkSync(join(merged, 'app/run'), join(merged, 'app/run-link'));
    execFileSync('umount', [merged]);
    mounted.pop();

    const committed = await snapshots.commit({
      key: 'work',
      names: ['committed:v1'],
      config: { Cmd: ['/app/run'] },
    });
    expect(committed.config.rootfs.diff_ids).toHaveLength(2);
    expect(committed.config.config?.Cmd).toEqual(['/app/run']);
    expect(committed.config.history?.at(-1)?.created_by).toBe('flotilla container commit');

    const names: string[] = [];
    const blob = store.blobs.open(committed.manifest.layers[1]?.digest ?? '');
    for await (const member of readTar(blob.pipe(createGunzip())))
      names.push(`${member.entry.type}:${member.entry.name}`);
    expect(names).toEqual([
      'directory:app/',
      'file:app/run',
      'hardlink:app/run-link',
      'directory:etc/',
      'file:etc/.wh.doomed',
      'directory:var/',
      'directory:var/cache/',
      'file:var/cache/.wh..wh..opq',
      'file:var/cache/new',
    ]);

    const fresh = await snapshots.prepare({ key: 'check', image: await store.resolve('committed:v1') });
    const view = mount(fresh.mount);
    expect(existsSync(join(view, 'etc/doomed'))).toBe(false);
    expect(readdirSync(join(view, 'var/cache'))).toEqual(['new']);
    expect(readFileSync(join(view, 'etc/hostname'), 'utf8')).toBe('image');
    expect(lstatSync(join(view, 'app/run')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(view, 'app/run-link')).ino).toBe(lstatSync(join(view, 'app/run')).ino);
  });

  it('leaves sockets out of a committed layer and refuses device nodes', async () => {
    const rootfs = await snapshots.prepare({ key: 'special', image: await store.resolve('base:1') });
    writeFileSync(join(rootfs.upperDir, 'kept.txt'), 'kept');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(rootfs.upperDir, 'app.sock'), resolve));
    try {
      const committed = await snapshots.commit({ key: 'special' });
      const names: string[] = [];
      for await (const member of readTar(
        store.blobs.open(committed.manifest.layers.at(-1)?.digest ?? '').pipe(createGunzip()),
      )) {
        names.push(member.entry.name);
      }
      expect(names).toEqual(['kept.txt']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    execFileSync('mknod', [join(rootfs.upperDir, 'disk'), 'b', '8', '0']);
    await expect(snapshots.commit({ key: 'special' })).rejects.toThrow(
      /disk is a block device; layers cannot carry device nodes/,
    );
  });

  it('mounts an image with more layers than full paths fit in one page through short links', async () => {
    const layers = Array.from({ length: 60 }, (_, position) => [
      {
        entry: { name: `layer-${position}.txt`, type: 'file' as const },
        body: Buffer.from(`layer ${position}`),
      },
    ]);
    const archive = join(stateDir, 'deep.tar');
    writeFileSync(archive, await ociArchive(await fixtureImage(layers), 'docker.io/library/deep:1'));
    await loadImageArchive(store, archive);
    const rootfs = await snapshots.prepare({ key: 'deep', image: await store.resolve('deep:1') });
    expect(rootfs.mount.options.join(',').length).toBeLessThanOrEqual(4095);
    expect(rootfs.mount.options[0]).toContain(join(stateDir, 'l') + '/');
    const merged = mount(rootfs.mount);
    expect(readFileSync(join(merged, 'layer-0.txt'), 'utf8')).toBe('layer 0');
    expect(readFileSync(join(merged, 'layer-59.txt'), 'utf8')).toBe('layer 59');
    execFileSync('umount', [merged]);
    mounted.pop();
    await snapshots.remove('deep');
    await store.remove('deep:1');
    expect(readdirSync(join(stateDir, 'l')).length).toBe(0);
  });

  it('gives the container engine a root and the image defaults, and keeps layers in use through GC', async () => {
    const provider = new ImageRootfsProvider(store);
    const prepared = await provider.prepare({
      containerId: 'ctr1',
      containerDir: join(stateDir, 'containers/ctr1'),
      image: 'base:1',
    });
    expect(prepared.rootfs.target).toBe(join(stateDir, 'containers/ctr1/rootfs'));
    expect(prepared.image).toEqual({ cmd: ['/bin/sh'], env: ['PATH=/bin'] });
    expect(prepared.lowerDirs).toHaveLength(1);

    // The store finds the snapshots in its state dir itself: no caller can pull layers from under a container.
    await expect(store.remove('base:1')).rejects.toThrow(/used by container ctr1/);
    await store.remove('base:1', { force: true });
    expect(existsSync(prepared.lowerDirs[0] as string)).toBe(true);
    await store.gc();
    expect(existsSync(prepared.lowerDirs[0] as string)).toBe(true);
    await provider.release({ containerId: 'ctr1' });
    await store.gc();
    expect(existsSync(prepared.lowerDirs[0] as string)).toBe(false);
  });
});
