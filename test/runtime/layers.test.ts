// Layer extraction as root: ownership, setuid bits, extended attributes, device nodes, and whiteouts in
// overlay form checked by mounting a real overlay.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { extractLayer, tarToBuffer } from '@flotilla/runtime';

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'this test needs root (chown, mknod, trusted.* xattrs and overlay mounts); run the suite as root',
    );
  }
}

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}

let sandbox: string;
beforeEach(() => {
  requireRoot();
  sandbox = mkdtempSync(join(tmpdir(), 'flotilla-layers-'));
});
afterEach(() => {
  const merged = join(sandbox, 'merged');
  if (existsSync(merged)) execFileSync('umount', ['-q', merged], { stdio: 'ignore' });
  rmSync(sandbox, { recursive: true, force: true });
});

function getXattr(path: string, name: string): string {
  return execFileSync('getfattr', ['--absolute-names', '--only-values', '-h', '-n', name, path], {
    encoding: 'latin1',
  });
}

describe('layer extraction as root', () => {
  it('keeps ownership, setuid bits, capabilities and user xattrs', async () => {
    // security.capability v2 granting cap_net_bind_service (bit 10), permitted + effective.
    const capability = Buffer.from('0100000200040000000000000000000000000000', 'hex');
    const root = join(sandbox, 'layer');
    mkdirSync(root);
    const tar = await tarToBuffer([
      { entry: { name: 'home/app', type: 'directory', uid: 1000, gid: 1000, mode: 0o750 } },
      {
        entry: { name: 'home/app/data', type: 'file', uid: 1000, gid: 100, mode: 0o640 },
        body: Buffer.from('x'),
      },
      { entry: { name: 'bin/su', type: 'file', uid: 0, gid: 0, mode: 0o4755 }, body: Buffer.from('#!') },
      {
        entry: {
          name: 'bin/server',
          type: 'file',
          uid: 1000,
          gid: 1000,
          mode: 0o755,
          xattrs: new Map([
            ['security.capability', capability],
            ['user.origin', Buffer.from('flotilla')],
          ]),
        },
        body: Buffer.from('#!'),
      },
      { entry: { name: 'dev/null', type: 'char-device', devMajor: 1, devMinor: 3, mode: 0o666 } },
      { entry: { name: 'run/pipe', type: 'fifo', mode: 0o600, uid: 1000, gid: 1000 } },
    ]);
    await extractLayer(once(gzipSync(tar)), { root, allowDevices: true });

    const appDir = lstatSync(join(root, 'home/app'));
    expect([appDir.uid, appDir.gid, appDir.mode & 0o7777]).toEqual([1000, 1000, 0o750]);
    const data = lstatSync(join(root, 'home/app/data'));
    expect([data.uid, data.gid, data.mode & 0o7777]).toEqual([1000, 100, 0o640]);
    expect(lstatSync(join(root, 'bin/su')).mode & 0o7777).toBe(0o4755);
    const server = join(root, 'bin/server');
    expect(lstatSync(server).uid).toBe(1000);
    expect(Buffer.from(getXattr(server, 'security.capability'), 'latin1').equals(capability)).toBe(true);
    expect(getXattr(server, 'user.origin')).toBe('flotilla');
    const devNull = lstatSync(join(root, 'dev/null'));
    expect(devNull.isCharacterDevice()).toBe(true);
    expect(devNull.rdev).toBe((1 << 8) | 3);
    const pipe = lstatSync(join(root, 'run/pipe'));
    expect([pipe.isFIFO(), pipe.uid, pipe.mode & 0o7777]).toEqual([true, 1000, 0o600]);
  });

  it('reads what GNU tar writes: GNU and PAX long names, hardlinks, xattrs, numeric owners', async () => {
    const source = join(sandbox, 'source');
    const deep = join(source, 'a'.repeat(90), 'b'.repeat(90));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'file.txt'), 'deep');
    execFileSync('ln', [join(deep, 'file.txt'), join(source, 'hard')]);
    execFileSync('ln', ['-s', '/etc/os-release', join(source, 'abs-link')]);
    execFileSync('setfattr', ['-n', 'user.origin', '-v', 'gnu-tar', join(source, 'hard')]);
    execFileSync('chown', ['1234:4321', join(deep, 'file.txt')]);
    for (const format of ['gnu', 'posix']) {
      const archive = join(sandbox, `${format}.tar`);
      execFileSync('tar', [
        `--format=${format}`,
        '--xattrs',
        '--xattrs-include=user.*',
        '--numeric-owner',
        '-C',
        source,
        '-cf',
        archive,
        '.',
      ]);
      const root = join(sandbox, `out-${format}`);
      mkdirSync(root);
      await extractLayer(once(readFileSync(archive)), { root });
      const file = lstatSync(join(root, 'a'.repeat(90), 'b'.repeat(90), 'file.txt'));
      expect([file.uid, file.gid]).toEqual([1234, 4321]);
      expect(lstatSync(join(root, 'hard')).ino).toBe(file.ino);
      expect(readlinkSync(join(root, 'abs-link'))).toBe('/etc/os-release');
      // GNU format has no place for xattrs; POSIX (PAX) carries them.
      if (format === 'posix') expect(getXattr(join(root, 'hard'), 'user.origin')).toBe('gnu-tar');
    }
  });

  it('turns .wh. whiteouts and opaque markers into overlay form that hides the lower layer', async () => {
    const lower = join(sandbox, 'lower');
    const upper = join(sandbox, 'upper');
    mkdirSync(join(lower, 'etc/conf.d'), { recursive: true });
    writeFileSync(join(lower, 'etc/removed'), 'old');
    writeFileSync(join(lower, 'etc/kept'), 'old');
    writeFileSync(join(lower, 'etc/conf.d/old.conf'), 'old');
    const layer = join(sandbox, 'layer');
    mkdirSync(layer);
    const tar = await tarToBuffer([
      { entry: { name: 'etc/', type: 'directory' } },
      { entry: { name: 'etc/.wh.removed', type: 'file' }, body: Buffer.alloc(0) },
      { entry: { name: 'etc/conf.d/', type: 'directory' } },
      { entry: { name: 'etc/conf.d/.wh..wh..opq', type: 'file' }, body: Buffer.alloc(0) },
      { entry: { name: 'etc/conf.d/new.conf', type: 'file' }, body: Buffer.from('new') },
    ]);
    await extractLayer(once(tar), { root: layer });

    const whiteout = lstatSync(join(layer, 'etc/removed'));
    expect([whiteout.isCharacterDevice(), whiteout.rdev]).toEqual([true, 0]);
    expect(getXattr(join(layer, 'etc/conf.d'), 'trusted.overlay.opaque')).toBe('y');

    mkdirSync(upper);
    mkdirSync(join(sandbox, 'work'));
    const merged = join(sandbox, 'merged');
    mkdirSync(merged);
    execFileSync('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${layer}:${lower},upperdir=${upper},workdir=${join(sandbox, 'work')}`,
      merged,
    ]);
    expect(readdirSync(join(merged, 'etc')).sort()).toEqual(['conf.d', 'kept']);
    expect(readdirSync(join(merged, 'etc/conf.d'))).toEqual(['new.conf']);
  });
});
