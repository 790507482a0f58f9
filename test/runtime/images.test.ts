// The image store on a real state dir: loading the three archive layouts, names, inspect, removal with
// garbage collection, and save/load round trips.
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  createWriteStream,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImageInUseError, ImageStore, loadImageArchive, saveImageArchive, chainIds } from '@flotilla/runtime';
import { fixtureImage, legacyDockerArchive, ociArchive, sha256, type FixtureImage } from './images.fixtures';

let stateDir: string;
let store: ImageStore;
let image: FixtureImage;

function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new Error('this test needs root (layers are unpacked with their owners and overlay whiteouts)');
}

beforeAll(async () => {
  image = await fixtureImage([
    [
      { entry: { name: 'bin/', type: 'directory' } },
      {
        entry: { name: 'bin/hello', type: 'file', mode: 0o755 },
        body: Buffer.from('#!/bin/sh\necho hello\n'),
      },
      { entry: { name: 'etc/motd', type: 'file' }, body: Buffer.from('base') },
    ],
    [
      { entry: { name: 'etc/.wh.motd', type: 'file' }, body: Buffer.alloc(0) },
      { entry: { name: 'etc/app.conf', type: 'file' }, body: Buffer.from('layer two') },
    ],
  ]);
});

beforeEach(() => {
  requireRoot();
  stateDir = mkdtempSync(join(tmpdir(), 'flotilla-images-'));
  store = new ImageStore({ stateDir });
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

function archiveFile(name: string, data: Buffer): string {
  const path = join(stateDir, name);
  writeFileSync(path, data);
  return path;
}

describe('image store', () => {
  it('loads an OCI archive, unpacks each layer once by chain ID and lists, tags and inspects it', async () => {
    const loaded = await loadImageArchive(
      store,
      archiveFile('oci.tar', await ociArchive(image, 'docker.io/library/app:1.0')),
    );
    expect(loaded).toEqual([
      { id: sha256(image.config), manifestDigest: sha256(image.manifest), names: ['app:1.0'] },
    ]);

    const chain = chainIds(image.layers.map((layer) => sha256(layer.tar)));
    expect(readFileSync(join(store.layers.diffDirectory(chain[0] as string), 'bin/hello'), 'utf8')).toContain(
      'echo hello',
    );
    expect(readFileSync(join(store.layers.diffDirectory(chain[1] as string), 'etc/app.conf'), 'utf8')).toBe(
      'layer two',
    );

    await store.tag('app:1.0', 'localhost:5000/team/app:v2');
    const [summary] = await store.list();
    expect(summary?.names).toEqual(['app:1.0', 'localhost:5000/team/app:v2']);
    const inspected = await store.inspect(sha256(image.config).slice(7, 19));
    expect(inspected).toMatchObject({
      Id: sha256(image.config),
      RepoTags: ['app:1.0', 'localhost:5000/team/app:v2'],
      Os: 'linux',
      Config: { Cmd: ['/bin/sh'] },
      RootFS: { Type: 'layers', Layers: image.layers.map((layer) => sha256(layer.tar)) },
    });
  });

  it('loads a gzip-compressed legacy docker save archive and a Docker 25+ archive with names from manifest.json', async () => {
    const legacy = await loadImageArchive(
      store,
      archiveFile('legacy.tar.gz', gzipSync(await legacyDockerArchive(image, ['legacy/app:old']))),
    );
    expect(legacy).toMatchObject([{ id: sha256(image.config), names: ['legacy/app:old'] }]);
    const docker25 = await loadImageArchive(
      store,
      archiveFile('d25.tar', await ociArchive(image, undefined, { dockerManifest: true })),
    );
    expect(docker25[0]?.names).toEqual(['docker25/app:v1']);
    expect((await store.readIndex()).manifests).toHaveLength(2);
    const images = await store.list();
    // Same config, but the legacy load re-wrote the manifest (uncompressed layers): two images, one ID.
    expect(images.map((entry) => entry.id)).toEqual([sha256(image.config), sha256(image.config)]);
  });

  it('keeps an untagged OCI image as dangling and removes it by ID', async () => {
    const [loaded] = await loadImageArchive(
      store,
      archiveFile('bare.tar', await ociArchive(image, undefined, { refNameOnly: 'latest' })),
    );
    expect(loaded?.names).toEqual([]);
    await store.remove(loaded?.id ?? '');
    expect(await store.list()).toEqual([]);
  });

  it('untags by name, deletes the last name with its blobs and layers, and refuses images in use', async () => {
    await loadImageArchive(
      store,
      archiveFile('oci.tar', await ociArchive(image, 'docker.io/library/app:1.0')),
    );
    await store.tag('app:1.0', 'app:other');
    expect(await store.remove('app:other')).toEqual({ untagged: ['app:other'], deleted: [] });

    const snapshots = [
      {
        key: 'web-1',
        imageId: sha256(image.config),
        chainIds: chainIds(image.layers.map((layer) => sha256(layer.tar))),
      },
    ];
    await expect(store.remove('app:1.0', { snapshots })).rejects.toThrow(ImageInUseError);
    await expect(store.remove('app:1.0', { snapshots })).rejects.toThrow(
      /used by container web-1; remove the container first or use --force/,
    );

    expect(await store.remove('app:1.0')).toEqual({ untagged: ['app:1.0'], deleted: [sha256(image.config)] });
    expect(await store.list()).toEqual([]);
    expect(readdirSync(join(stateDir, 'images/blobs/sha256'))).toEqual([]);
    expect(await store.layers.list()).toEqual([]);
    await expect(store.resolve('app:1.0')).rejects.toThrow(
      /no image app:1.0 on this node; pull, load or build it first/,
    );
  });

  it('keeps content a running pull, load or build wrote but has not registered yet, until its lease ends', async () => {
    let stored!: () => void;
    let finish!: () => void;
    const written = new Promise<void>((resolve) => (stored = resolve));
    const held = new Promise<void>((resolve) => (finish = resolve));
    const lease = store.withLease(async () => {
      await store.blobs.put(Buffer.from('soon part of an image'));
      stored();
      await held;
    });
    await written;
    expect(await store.gc()).toEqual({ blobs: 0, layers: 0 });
    finish();
    await lease;
    expect(await store.gc()).toEqual({ blobs: 1, layers: 0 });

    // A lease left by a process that died protects nothing and is cleared away.
    await store.blobs.put(Buffer.from('orphan'));
    writeFileSync(join(stateDir, 'images/leases/999999999-0-dead'), '999999999');
    expect(await store.gc()).toEqual({ blobs: 1, layers: 0 });
    expect(readdirSync(join(stateDir, 'images/leases'))).toEqual([]);
  });

  it('saves to an OCI archive that loads back into another state dir with the same digests', async () => {
    await loadImageArchive(
      store,
      archiveFile('oci.tar', await ociArchive(image, 'docker.io/library/app:1.0')),
    );
    const saved = join(stateDir, 'saved.tar');
    await saveImageArchive(store, ['app:1.0'], createWriteStream(saved));
    const otherDir = mkdtempSync(join(tmpdir(), 'flotilla-images-other-'));
    try {
      const other = new ImageStore({ stateDir: otherDir });
      const loaded = await loadImageArchive(other, saved);
      expect(loaded).toEqual([
        { id: sha256(image.config), manifestDigest: sha256(image.manifest), names: ['app:1.0'] },
      ]);
      expect((await other.resolve('app:1.0')).manifestDigest).toBe(sha256(image.manifest));
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('refuses an archive whose layer blob does not match its digest and leaves no layer behind', async () => {
    const tampered = { ...image, layers: image.layers.map((layer) => ({ ...layer })) };
    const corrupt = Buffer.from(tampered.layers[0]?.blob ?? Buffer.alloc(0));
    corrupt[corrupt.length - 5] = (corrupt[corrupt.length - 5] ?? 0) ^ 0xff;
    // Keep the manifest's digest of the original blob but ship the corrupt bytes under that name.
    const archive = await ociArchive(image, 'docker.io/library/app:1.0');
    const tamperedArchive = Buffer.from(archive);
    const at = tamperedArchive.indexOf(image.layers[0]?.blob ?? Buffer.alloc(0));
    corrupt.copy(tamperedArchive, at);
    await expect(loadImageArchive(store, archiveFile('bad.tar', tamperedArchive))).rejects.toThrow(
      /hashes to sha256:.*the source is corrupt or was tampered with/,
    );
    expect(await store.list()).toEqual([]);
    expect(existsSync(join(stateDir, 'layers')) ? await store.layers.list() : []).toEqual([]);
  });
});
