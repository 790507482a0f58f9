import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  lstatSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { gzipSync } from 'node:zlib';
import { extractLayer, type ExtractLayerOptions } from './layer-extractor';
import { LayerError, type LayerErrorCode } from './layer.error';
import { tarToBuffer, type MemberToWrite } from './tar-writer';
import { encodeHeader } from './tar-header';

const file = (name: string, content: string, extra: Partial<MemberToWrite['entry']> = {}): MemberToWrite => ({
  entry: { name, type: 'file', mode: 0o644, mtime: 1_600_000_000, ...extra },
  body: Buffer.from(content),
});
const dir = (name: string, extra: Partial<MemberToWrite['entry']> = {}): MemberToWrite => ({
  entry: { name, type: 'directory', mode: 0o755, mtime: 1_600_000_000, ...extra },
});
const symlink = (name: string, target: string): MemberToWrite => ({
  entry: { name, type: 'symlink', linkName: target },
});
const hardlink = (name: string, target: string): MemberToWrite => ({
  entry: { name, type: 'hardlink', linkName: target },
});

let sandbox: string;
let root: string;
let outside: string;

beforeEach(() => {
  sandbox = mkdtempSync(join(tmpdir(), 'flotilla-layer-spec-'));
  root = join(sandbox, 'layer');
  outside = join(sandbox, 'outside');
  for (const path of [root, outside]) mkdirSync(path);
  writeFileSync(join(outside, 'target'), 'original');
});

afterEach(() => rmSync(sandbox, { recursive: true, force: true }));

async function* chunks(data: Buffer): AsyncGenerator<Buffer> {
  // Odd chunk sizes exercise the reader's buffering across header boundaries.
  for (let offset = 0; offset < data.length; offset += 777) yield data.subarray(offset, offset + 777);
}

async function extract(data: Buffer, options: Partial<ExtractLayerOptions> = {}) {
  return extractLayer(chunks(data), { root, preserveOwnership: false, ...options });
}

async function expectRefused(
  data: Buffer,
  code: LayerErrorCode,
  message: RegExp,
  options: Partial<ExtractLayerOptions> = {},
) {
  const error = await extract(data, options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(LayerError);
  expect((error as LayerError).code).toBe(code);
  expect((error as LayerError).message).toMatch(message);
  expect(readdirSync(outside)).toEqual(['target']);
  expect(readFileSync(join(outside, 'target'), 'utf8')).toBe('original');
}

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('extractLayer keeps real layers intact', () => {
  it('writes files, directories, symlinks and hardlinks with modes, setuid bits and mtimes', async () => {
    const tar = await tarToBuffer([
      dir('bin', { mode: 0o755 }),
      file('bin/tool', '#!/bin/sh\n', { mode: 0o4755 }),
      hardlink('bin/tool-again', 'bin/tool'),
      symlink('bin/sh', '/bin/busybox'),
      symlink('usr-lib', '../usr/lib'),
      dir('tmp', { mode: 0o1777 }),
      file(`deep/${'d'.repeat(120)}/${'f'.repeat(120)}`, 'long names go through PAX'),
    ]);
    const result = await extract(gzipSync(tar), { expectedDiffId: sha256(tar) });

    expect(result.diffId).toBe(sha256(tar));
    expect(lstatSync(join(root, 'bin/tool')).mode & 0o7777).toBe(0o4755);
    expect(lstatSync(join(root, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(lstatSync(join(root, 'bin/tool')).mtimeMs).toBe(1_600_000_000_000);
    expect(lstatSync(join(root, 'bin')).mtimeMs).toBe(1_600_000_000_000);
    expect(lstatSync(join(root, 'bin/tool-again')).ino).toBe(lstatSync(join(root, 'bin/tool')).ino);
    expect(readlinkSync(join(root, 'bin/sh'))).toBe('/bin/busybox');
    expect(readlinkSync(join(root, 'usr-lib'))).toBe('../usr/lib');
    expect(readFileSync(join(root, 'deep', 'd'.repeat(120), 'f'.repeat(120)), 'utf8')).toBe(
      'long names go through PAX',
    );
  });

  it('places absolute entry names under the layer root, as Docker does', async () => {
    await extract(await tarToBuffer([file('/etc/hostname', 'inside')]));
    expect(readFileSync(join(root, 'etc/hostname'), 'utf8')).toBe('inside');
  });

  it('lets the last of duplicate entries win without writing through an earlier symlink', async () => {
    const tar = await tarToBuffer([
      symlink('config', join(outside, 'target')),
      file('config', 'replaced'),
      dir('data'),
      file('data/old', 'gone'),
      file('data', 'now a file'),
    ]);
    await extract(tar);
    expect(lstatSync(join(root, 'config')).isFile()).toBe(true);
    expect(readFileSync(join(root, 'config'), 'utf8')).toBe('replaced');
    expect(readFileSync(join(root, 'data'), 'utf8')).toBe('now a file');
    expect(readFileSync(join(outside, 'target'), 'utf8')).toBe('original');
  });

  it('skips AUFS metadata entries', async () => {
    await extract(await tarToBuffer([dir('.wh..wh.plnk'), file('kept', 'yes')]));
    expect(readdirSync(root)).toEqual(['kept']);
  });
});

describe('extractLayer keeps duplicates and links safe', () => {
  it('replaces a hardlinked name without changing the file it was linked to', async () => {
    await extract(
      await tarToBuffer([
        file('original', 'keep me'),
        hardlink('alias', 'original'),
        file('alias', 'new content'),
      ]),
    );
    expect(readFileSync(join(root, 'original'), 'utf8')).toBe('keep me');
    expect(readFileSync(join(root, 'alias'), 'utf8')).toBe('new content');
  });

  it('replaces a symlink by a directory instead of following it', async () => {
    await extract(await tarToBuffer([symlink('etc', outside), dir('etc'), file('etc/target', 'inside')]));
    expect(lstatSync(join(root, 'etc')).isDirectory()).toBe(true);
    expect(readFileSync(join(root, 'etc/target'), 'utf8')).toBe('inside');
    expect(readFileSync(join(outside, 'target'), 'utf8')).toBe('original');
  });
});

describe('extractLayer refuses hostile archives', () => {
  it('refuses ../ escapes', async () => {
    await expectRefused(
      await tarToBuffer([file('../outside/target', 'pwned')]),
      'path-traversal',
      /contains "\.\."/,
    );
    await expectRefused(
      await tarToBuffer([file('a/../../outside/x', 'pwned')]),
      'path-traversal',
      /contains "\.\."/,
    );
  });

  it('refuses ../ escapes hidden in PAX and GNU long names', async () => {
    const longEscape = `${'a/'.repeat(60)}${'../'.repeat(62)}outside/target`;
    // Our writer puts names over 100 bytes into a PAX "path" record.
    await expectRefused(await tarToBuffer([file(longEscape, 'pwned')]), 'path-traversal', /contains "\.\."/);
    const gnuName = Buffer.from('../outside/target\0');
    const longLink = encodeHeader({ name: '././@LongLink', type: 'file', size: gnuName.length });
    longLink.write('L', 156, 'latin1');
    longLink.write('        ', 148, 'latin1');
    let sum = 0;
    for (const byte of longLink) sum += byte;
    longLink.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    const body = Buffer.concat([gnuName, Buffer.alloc(512 - gnuName.length)]);
    const member = await tarToBuffer([file('placeholder', 'pwned')]);
    await expectRefused(
      Buffer.concat([longLink, body, member]),
      'path-traversal',
      /"\.\.\/outside\/target" contains/,
    );
  });

  it('refuses writing through a chain of symlinks', async () => {
    await expectRefused(
      await tarToBuffer([symlink('b', outside), symlink('a', 'b'), file('a/target', 'pwned')]),
      'write-through-symlink',
      /through the symlink "a"/,
    );
  });

  it('refuses writing a file through a symlink the layer created (absolute and relative)', async () => {
    await expectRefused(
      await tarToBuffer([symlink('escape', outside), file('escape/target', 'pwned')]),
      'write-through-symlink',
      /through the symlink "escape"/,
    );
    rmSync(root, { recursive: true });
    mkdirSync(root);
    await expectRefused(
      await tarToBuffer([symlink('up', '../outside'), dir('up/sub')]),
      'write-through-symlink',
      /through the symlink "up"/,
    );
  });

  it('refuses hardlinks to files outside the layer or missing from it', async () => {
    await expectRefused(
      await tarToBuffer([hardlink('passwd', '/etc/passwd')]),
      'hardlink-target',
      /not a file earlier in this layer/,
    );
    await expectRefused(
      await tarToBuffer([hardlink('passwd', '../outside/target')]),
      'path-traversal',
      /hardlink target/,
    );
    await expectRefused(
      await tarToBuffer([symlink('out', outside), hardlink('stolen', 'out/target')]),
      'hardlink-target',
      /not a file earlier in this layer/,
    );
    expect(existsSync(join(root, 'stolen'))).toBe(false);
  });

  it('refuses whiteouts whose names traverse', async () => {
    await expectRefused(await tarToBuffer([file('etc/.wh...', '')]), 'invalid-whiteout', /names "\.\."/);
    await expectRefused(await tarToBuffer([file('.wh.', '')]), 'invalid-whiteout', /names ""/);
    await expectRefused(await tarToBuffer([file('../.wh.target', '')]), 'path-traversal', /contains "\.\."/);
  });

  it('refuses device nodes by default', async () => {
    const tar = await tarToBuffer([
      { entry: { name: 'dev/mem', type: 'char-device', devMajor: 1, devMinor: 1 } },
    ]);
    await expectRefused(tar, 'device-not-allowed', /char-device \(1:1\); device nodes are not allowed/);
  });

  it('refuses trusted.* extended attributes', async () => {
    const tar = await tarToBuffer([
      {
        entry: {
          name: 'dir',
          type: 'directory',
          xattrs: new Map([['trusted.overlay.opaque', Buffer.from('y')]]),
        },
      },
    ]);
    await expectRefused(tar, 'xattr-not-allowed', /trusted\.overlay\.opaque/);
  });

  it('caps gzip bombs by ratio and by total size', async () => {
    const zeros = Buffer.alloc(80 * 1024 * 1024);
    const bomb = gzipSync(
      await tarToBuffer([file('zeros', ''), { entry: { name: 'big', type: 'file' }, body: zeros }]),
    );
    await expectRefused(bomb, 'ratio-limit', /more than 512:1/);
    const modest = gzipSync(
      await tarToBuffer([{ entry: { name: 'big', type: 'file' }, body: Buffer.alloc(2 * 1024 * 1024, 7) }]),
    );
    await expectRefused(modest, 'size-limit', /more than 1048576 bytes/, {
      limits: { maxUncompressedBytes: 1024 * 1024 },
    });
    // Decompressing 64 MiB is CPU-bound; on a busy machine it takes a few seconds.
  }, 30_000);

  it('caps the number of entries', async () => {
    const many = await tarToBuffer(Array.from({ length: 5 }, (_, position) => file(`f${position}`, '')));
    await expectRefused(many, 'size-limit', /more than 3 entries/, { maxEntries: 3 });
  });

  it('refuses a blob whose digest or diffID does not match', async () => {
    const tar = await tarToBuffer([file('a', 'content')]);
    const blob = gzipSync(tar);
    await expectRefused(blob, 'digest-mismatch', /blob digest is sha256:.*expected sha256:0{64}/, {
      expectedDigest: `sha256:${'0'.repeat(64)}`,
    });
    await expectRefused(blob, 'digest-mismatch', /diffID is/, { expectedDiffId: sha256(blob) });
    await expect(
      extract(blob, { expectedDigest: sha256(blob), expectedDiffId: sha256(tar) }),
    ).resolves.toMatchObject({ entries: 1 });
  });

  it('reads zstd layers where Node.js can, and says why not where it cannot', async () => {
    const tar = await tarToBuffer([file('z', 'zstd content')]);
    const zstd = (zlib as unknown as { zstdCompressSync?: (data: Buffer) => Buffer }).zstdCompressSync;
    if (zstd !== undefined) {
      await extract(zstd(tar), { expectedDiffId: sha256(tar) });
      expect(readFileSync(join(root, 'z'), 'utf8')).toBe('zstd content');
    } else {
      // The zstd frame magic followed by junk: recognised, then refused with the way out.
      const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(64)]);
      await expectRefused(
        frame,
        'unsupported-compression',
        /zstd-compressed, and Node.js v\d+.*re-push the image with gzip layers/,
      );
    }
  });

  it('refuses truncated and corrupt archives', async () => {
    const tar = await tarToBuffer([file('a', 'x'.repeat(5000))]);
    await expectRefused(tar.subarray(0, 2048), 'malformed-tar', /truncated/);
    const corrupt = Buffer.from(tar);
    corrupt[0] = 0x41;
    await expectRefused(corrupt, 'malformed-tar', /checksum mismatch/);
  });

  it('refuses oversized metadata records', async () => {
    const header = encodeHeader({ name: 'PaxHeaders/x', type: 'file', size: 4 * 1024 * 1024 });
    header.write('x', 156, 'latin1');
    // Recompute the checksum after changing the type flag.
    header.write('        ', 148, 'latin1');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    await expectRefused(
      Buffer.concat([header, Buffer.alloc(4 * 1024 * 1024)]),
      'malformed-tar',
      /exceeds the 1048576-byte limit/,
    );
  });
});
