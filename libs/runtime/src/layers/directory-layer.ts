// Turns a directory into a layer tar. For an overlay upper dir the overlay forms become the layer
// forms: a 0:0 character device is a whiteout (".wh.NAME") and a trusted.overlay.opaque=y directory gets
// ".wh..wh..opq". Entries come out in sorted order with hardlinks preserved, so the same tree always
// gives the same tar (and diffID).
import { spawn } from 'node:child_process';
import { createReadStream, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { LayerError } from './layer.error';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './entry-path';
import type { MemberToWrite } from './tar-writer';

export interface DirectoryLayerOptions {
  /** Read overlay whiteouts and opaque markers (an overlay upper dir). */
  readonly overlay: boolean;
  /**
   * The owners to record for a file owned by these host ids: a container in a user namespace
   * wrote its files as host ids (100000 + n) that the layer must record as its own (n).
   */
  readonly owners?: (owner: { uid: number; gid: number }) => { uid: number; gid: number };
}

/** Extended attributes carried into layers; the rest (overlay's own trusted.*) is interpreted or dropped. */
const CARRIED_XATTRS = [/^user\./, /^security\.capability$/, /^system\.posix_acl_(access|default)$/];

export async function* directoryLayerMembers(
  root: string,
  options: DirectoryLayerOptions,
): AsyncGenerator<MemberToWrite> {
  root = resolve(root);
  const xattrs = await readAllXattrs(root);
  const seenInodes = new Map<string, string>();

  async function* walk(relative: string): AsyncGenerator<MemberToWrite> {
    // Synchronous metadata calls: microseconds each, where a promise costs a thread-pool round trip.
    const names = readdirSync(join(root, relative)).sort();
    for (const name of names) {
      const childRelative = relative === '' ? name : `${relative}/${name}`;
      const path = join(root, childRelative);
      const stat = lstatSync(path);
      const attributes = xattrs.get(path) ?? new Map<string, Buffer>();
      const owner = options.owners?.({ uid: stat.uid, gid: stat.gid }) ?? { uid: stat.uid, gid: stat.gid };
      const common = {
        mode: stat.mode & 0o7777,
        uid: owner.uid,
        gid: owner.gid,
        mtime: Math.floor(stat.mtimeMs / 1000),
      };
      if (stat.isCharacterDevice() && stat.rdev === 0 && options.overlay) {
        const whiteout =
          relative === '' ? `${WHITEOUT_PREFIX}${name}` : `${relative}/${WHITEOUT_PREFIX}${name}`;
        yield {
          entry: { name: whiteout, type: 'file', ...common, mode: 0o644, size: 0 },
          body: Buffer.alloc(0),
        };
        continue;
      }
      if (options.overlay) rejectOverlayFeatures(childRelative, attributes);
      const carried = new Map(
        [...attributes].filter(([key]) => CARRIED_XATTRS.some((pattern) => pattern.test(key))),
      );
      const withXattrs = carried.size > 0 ? { xattrs: carried } : {};
      if (stat.isDirectory()) {
        yield { entry: { name: `${childRelative}/`, type: 'directory', ...common, ...withXattrs } };
        if (options.overlay && attributes.get('trusted.overlay.opaque')?.toString() === 'y') {
          yield {
            entry: {
              name: `${childRelative}/${OPAQUE_WHITEOUT}`,
              type: 'file',
              mode: 0o644,
              mtime: common.mtime,
              size: 0,
            },
            body: Buffer.alloc(0),
          };
        }
        yield* walk(childRelative);
      } else if (stat.isSymbolicLink()) {
        yield {
          entry: { name: childRelative, type: 'symlink', linkName: readlinkSync(path), ...common },
        };
      } else if (stat.isFile()) {
        const inode = `${stat.dev}:${stat.ino}`;
        const first = stat.nlink > 1 ? seenInodes.get(inode) : undefined;
        if (first !== undefined) {
          yield { entry: { name: childRelative, type: 'hardlink', linkName: first, ...common } };
          continue;
        }
        if (stat.nlink > 1) seenInodes.set(inode, childRelative);
        yield {
          entry: { name: childRelative, type: 'file', size: stat.size, ...common, ...withXattrs },
          body: createReadStream(path),
        };
      } else if (stat.isFIFO()) {
        yield { entry: { name: childRelative, type: 'fifo', ...common } };
      } else if (stat.isSocket()) {
        // A socket only means something to the process that listens on it; tar has no form for it and
        // Docker leaves them out of layers too.
        continue;
      } else {
        throw new LayerError(
          'device-not-allowed',
          `${path} is a ${describe(stat)}; layers cannot carry device nodes (images get /dev at start) — delete it before committing`,
        );
      }
    }
  }
  yield* walk('');
}

function rejectOverlayFeatures(relative: string, attributes: ReadonlyMap<string, Buffer>): void {
  for (const key of ['trusted.overlay.redirect', 'trusted.overlay.metacopy']) {
    if (attributes.has(key)) {
      throw new LayerError(
        'unsupported-entry',
        `${relative} carries ${key}: the overlay was mounted with redirect_dir or metacopy, whose changes cannot be written as a layer; mount without them`,
      );
    }
  }
}

function describe(stat: Stats): string {
  if (stat.isBlockDevice()) return 'block device';
  if (stat.isCharacterDevice()) return 'character device';
  return 'special file';
}

/** All extended attributes under root in one getfattr run (Node.js cannot read xattrs itself). */
async function readAllXattrs(root: string): Promise<Map<string, Map<string, Buffer>>> {
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      'getfattr',
      ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', root],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', (error) =>
      reject(
        new LayerError(
          'helper-failed',
          `reading extended attributes failed: cannot run getfattr (${error.message}); install Debian's attr package (bash scripts/setup.sh)`,
        ),
      ),
    );
    child.on('close', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(
            new LayerError(
              'helper-failed',
              `reading extended attributes of ${root} failed: ${stderr.trim()}`,
            ),
          ),
    );
  });
  const result = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      result.set(unquote(line.slice('# file: '.length)), current);
      continue;
    }
    const equals = line.indexOf('=');
    if (current === undefined || equals === -1) continue;
    const value = line.slice(equals + 1);
    current.set(
      line.slice(0, equals),
      value.startsWith('0s')
        ? Buffer.from(value.slice(2), 'base64')
        : Buffer.from(value.replace(/^"|"$/g, ''), 'latin1'),
    );
  }
  return result;
}

/** getfattr writes odd bytes in file names as \ooo octal escapes. */
function unquote(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && /^[0-7]{3}$/.test(text.slice(i + 1, i + 4))) {
      bytes.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(text.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
