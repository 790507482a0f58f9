// Unpacks one layer blob into a directory in overlay form. This is hostile-input code: every entry is
// checked so that no write ever leaves the layer root, and the blob's digest and diffID are verified.
//
// Safety argument: the target is a fresh directory only this extraction can reach (the caller renames it
// into place after success), so the only adversary is the archive itself, which is processed in order.
// Each parent component of each entry is lstat'ed and must be a real directory — never a symlink — so a
// path can never be redirected, and an entry is created with O_EXCL|O_NOFOLLOW after removing whatever
// was there (duplicates: the last entry wins). Symlinks are stored verbatim and never followed, so
// absolute symlinks stay as the image means them (relative to the container's root).
//
// Metadata calls are synchronous on purpose: each is a microsecond syscall, while its promise form is a
// thread-pool round trip; a layer has tens of thousands of entries, and the async form was ten times slower.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  linkSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  promises as fs,
  rmSync,
  symlinkSync,
  utimesSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { classifyWhiteout, entryComponents } from './entry-path';
import { LayerError } from './layer.error';
import { openLayerStream, type DecompressionLimits } from './layer-stream';
import { makeSpecialNodes, writeXattrs, type SpecialNode, type XattrWrite } from './special-files';
import { readTar } from './tar-reader';
import type { TarEntry } from './tar-header';

export interface ExtractLayerOptions {
  /** An existing, empty directory that nobody else uses until extraction returns. */
  readonly root: string;
  /** chown entries to their uid/gid; defaults to true when running as root. */
  readonly preserveOwnership?: boolean;
  /** Character and block devices are refused in layers unless this is set (and we are root). */
  readonly allowDevices?: boolean;
  /** The blob's expected digest ("sha256:..."), checked over the compressed bytes. */
  readonly expectedDigest?: string;
  /** The expected diffID ("sha256:..."), checked over the uncompressed tar. */
  readonly expectedDiffId?: string;
  readonly limits?: DecompressionLimits;
  /** Refuse layers with more entries than this (each costs bookkeeping memory). Default 4 million. */
  readonly maxEntries?: number;
}

export interface ExtractLayerResult {
  readonly digest: string;
  readonly diffId: string;
  readonly compressedSize: number;
  readonly size: number;
  readonly entries: number;
  /** Extended attributes outside the namespaces we apply (e.g. security.selinux), as "path: name". */
  readonly skippedXattrs: readonly string[];
}

/** Extended attributes we apply; trusted.* is refused (overlay's own metadata lives there). */
const APPLIED_XATTRS = [/^user\./, /^security\.capability$/, /^system\.posix_acl_(access|default)$/];
const MAX_SYMLINK_TARGET = 4095;
const DEFAULT_MAX_ENTRIES = 4_000_000;

export async function extractLayer(
  source: AsyncIterable<Uint8Array>,
  options: ExtractLayerOptions,
): Promise<ExtractLayerResult> {
  const rootStat = await fs.lstat(options.root);
  if (!rootStat.isDirectory()) throw new Error(`layer root ${options.root} is not a directory`);
  const stream = openLayerStream(source, options.limits);
  const extraction = new Extraction(options);
  for await (const member of readTar(stream.tar)) {
    await extraction.apply(member.entry, member.body);
  }
  const result = stream.result();
  if (options.expectedDigest !== undefined && result.digest !== options.expectedDigest) {
    throw new LayerError(
      'digest-mismatch',
      `layer blob digest is ${result.digest}, expected ${options.expectedDigest}: the download is corrupt or was tampered with; remove it and pull again`,
    );
  }
  if (options.expectedDiffId !== undefined && result.diffId !== options.expectedDiffId) {
    throw new LayerError(
      'digest-mismatch',
      `layer diffID is ${result.diffId}, but the image config says ${options.expectedDiffId}: the image is corrupt or was tampered with`,
    );
  }
  await extraction.finish();
  return { ...result, entries: extraction.entries, skippedXattrs: extraction.skippedXattrs };
}

type PendingNode = { readonly kind: 'whiteout' } | { readonly kind: 'node'; readonly entry: TarEntry };

class Extraction {
  entries = 0;
  readonly skippedXattrs: string[] = [];
  private readonly preserveOwnership: boolean;
  /** Relative paths known to be real directories we created or checked. */
  private readonly verifiedDirs = new Set<string>(['']);
  /** Directory metadata is applied last: adding children would change mtimes, and modes may forbid writes. */
  private readonly directoryEntries = new Map<string, TarEntry>();
  private readonly opaqueDirs = new Set<string>();
  private readonly pendingNodes = new Map<string, PendingNode>();
  private readonly xattrs = new Map<string, XattrWrite[]>();

  constructor(private readonly options: ExtractLayerOptions) {
    this.preserveOwnership = options.preserveOwnership ?? process.getuid?.() === 0;
  }

  async apply(entry: TarEntry, body: AsyncIterable<Buffer>): Promise<void> {
    this.entries++;
    const maxEntries = this.options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (this.entries > maxEntries) {
      throw new LayerError(
        'size-limit',
        `the layer has more than ${maxEntries} entries (the limit); it is hostile or needs a higher maxEntries`,
      );
    }
    const components = entryComponents(entry.name);
    if (components.length === 0) {
      if (entry.type !== 'directory') {
        throw new LayerError(
          'unsupported-entry',
          `entry ${JSON.stringify(entry.name)} names the layer root but is a ${entry.type}`,
        );
      }
      this.directoryEntries.set('', entry);
      return;
    }
    const parent = components.slice(0, -1);
    const basename = components[components.length - 1] as string;
    const whiteout = classifyWhiteout(basename, entry.name);
    switch (whiteout.kind) {
      case 'aufs-meta':
        return; // AUFS bookkeeping (hardlink dirs); Docker ignores it too
      case 'opaque':
        this.ensureDirectories(parent, entry.name);
        this.opaqueDirs.add(parent.join('/'));
        return;
      case 'whiteout': {
        this.ensureDirectories(parent, entry.name);
        const target = [...parent, whiteout.target].join('/');
        this.clear(target);
        this.pendingNodes.set(target, { kind: 'whiteout' });
        return;
      }
      case 'none':
        break;
    }

    this.ensureDirectories(parent, entry.name);
    const relative = components.join('/');
    const path = join(this.options.root, relative);

    if (entry.type === 'directory') {
      const existing = lstatOrUndefined(path);
      if (!existing?.isDirectory()) {
        this.clear(relative);
        mkdirSync(path, { mode: 0o700 });
      }
      this.verifiedDirs.add(relative);
      this.directoryEntries.set(relative, entry);
      this.queueXattrs(entry, relative);
      return;
    }

    this.clear(relative);
    this.queueXattrs(entry, relative);
    switch (entry.type) {
      case 'file':
        await this.writeFile(path, entry, body);
        return;
      case 'symlink':
        this.writeSymlink(path, entry);
        return;
      case 'hardlink':
        this.writeHardlink(path, entry);
        return;
      case 'char-device':
      case 'block-device':
        if (!this.options.allowDevices) {
          throw new LayerError(
            'device-not-allowed',
            `entry ${JSON.stringify(entry.name)} is a ${entry.type} (${entry.devMajor}:${entry.devMinor}); device nodes are not allowed in image layers (the container's /dev is made at start)`,
          );
        }
        this.pendingNodes.set(relative, { kind: 'node', entry });
        return;
      case 'fifo':
        this.pendingNodes.set(relative, { kind: 'node', entry });
        return;
    }
  }

  /** Makes sure every component is a real directory under the root, creating missing ones. */
  private ensureDirectories(components: readonly string[], entryName: string): void {
    for (let depth = 1; depth <= components.length; depth++) {
      const relative = components.slice(0, depth).join('/');
      if (this.verifiedDirs.has(relative)) continue;
      const path = join(this.options.root, relative);
      const stat = lstatOrUndefined(path);
      if (stat === undefined) {
        if (this.pendingNodes.has(relative)) this.pendingNodes.delete(relative);
        mkdirSync(path, { mode: 0o755 });
      } else if (stat.isSymbolicLink()) {
        throw new LayerError(
          'write-through-symlink',
          `entry ${JSON.stringify(entryName)} would be written through the symlink ${JSON.stringify(relative)}; a layer may not write through its own symlinks (the archive is hostile)`,
        );
      } else if (!stat.isDirectory()) {
        throw new LayerError(
          'not-a-directory',
          `entry ${JSON.stringify(entryName)} needs ${JSON.stringify(relative)} to be a directory, but the layer made it a file earlier`,
        );
      }
      this.verifiedDirs.add(relative);
    }
  }

  /** Removes whatever an earlier entry left at this path (last entry wins) and forgets its records. */
  private clear(relative: string): void {
    const path = join(this.options.root, relative);
    const existing = lstatOrUndefined(path);
    // Records below a path exist only when it is a directory; for anything else the exact key is all
    // there is, which keeps extraction linear in the number of entries.
    if (existing?.isDirectory()) {
      const inside = (candidate: string): boolean =>
        candidate === relative || candidate.startsWith(`${relative}/`);
      for (const set of [this.verifiedDirs, this.opaqueDirs])
        for (const key of [...set]) if (inside(key)) set.delete(key);
      for (const map of [this.directoryEntries, this.pendingNodes, this.xattrs]) {
        for (const key of [...map.keys()]) if (inside(key)) map.delete(key);
      }
    } else {
      for (const collection of [
        this.verifiedDirs,
        this.opaqueDirs,
        this.directoryEntries,
        this.pendingNodes,
        this.xattrs,
      ]) {
        collection.delete(relative);
      }
    }
    // rm never follows symlinks, and the parent was verified, so this stays inside the root.
    if (existing !== undefined) rmSync(path, { recursive: true, force: true });
  }

  private async writeFile(path: string, entry: TarEntry, body: AsyncIterable<Buffer>): Promise<void> {
    const fd = openSync(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      for await (const chunk of body) {
        let offset = 0;
        while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
      }
      if (this.preserveOwnership) fchownSync(fd, entry.uid, entry.gid);
      // After chown, which clears setuid/setgid.
      fchmodSync(fd, entry.mode);
      futimesSync(fd, entry.mtime, entry.mtime);
    } finally {
      closeSync(fd);
    }
  }

  private writeSymlink(path: string, entry: TarEntry): void {
    if (
      entry.linkName === '' ||
      Buffer.byteLength(entry.linkName) > MAX_SYMLINK_TARGET ||
      entry.linkName.includes('\0')
    ) {
      throw new LayerError(
        'malformed-tar',
        `symlink ${JSON.stringify(entry.name)} has an empty, oversized or NUL-containing target`,
      );
    }
    symlinkSync(entry.linkName, path);
    if (this.preserveOwnership) lchownSync(path, entry.uid, entry.gid);
    lutimesSync(path, entry.mtime, entry.mtime);
  }

  private writeHardlink(path: string, entry: TarEntry): void {
    const target = entryComponents(entry.linkName, `hardlink target of ${JSON.stringify(entry.name)}`);
    const missing = (): LayerError =>
      new LayerError(
        'hardlink-target',
        `hardlink ${JSON.stringify(entry.name)} points to ${JSON.stringify(entry.linkName)}, which is not a file earlier in this layer; hardlinks may only join files of the same layer`,
      );
    if (target.length === 0) throw missing();
    // Every component of the target must be a real directory of this layer, exactly as for writes.
    for (let depth = 1; depth < target.length; depth++) {
      const relative = target.slice(0, depth).join('/');
      if (this.verifiedDirs.has(relative)) continue;
      const stat = lstatOrUndefined(join(this.options.root, relative));
      if (stat === undefined || !stat.isDirectory()) throw missing();
      this.verifiedDirs.add(relative);
    }
    const targetPath = join(this.options.root, ...target);
    const stat = lstatOrUndefined(targetPath);
    if (stat === undefined || stat.isDirectory()) throw missing();
    // link(2) does not follow a symlink target, so a hardlink to a symlink stays inside the layer.
    linkSync(targetPath, path);
  }

  private queueXattrs(entry: TarEntry, relative: string): void {
    if (entry.xattrs.size === 0 || entry.type === 'symlink' || entry.type === 'hardlink') return;
    const path = join(this.options.root, relative);
    const writes: XattrWrite[] = [];
    for (const [name, value] of entry.xattrs) {
      if (!/^[\x21-\x3c\x3e-\x7e]+$/.test(name)) {
        throw new LayerError(
          'xattr-not-allowed',
          `entry ${JSON.stringify(entry.name)} has a malformed extended attribute name ${JSON.stringify(name)}`,
        );
      }
      if (name.startsWith('trusted.')) {
        throw new LayerError(
          'xattr-not-allowed',
          `entry ${JSON.stringify(entry.name)} sets ${name}; layers may not set trusted.* attributes (overlayfs keeps its own metadata there), so the archive is hostile`,
        );
      }
      if (APPLIED_XATTRS.some((pattern) => pattern.test(name))) writes.push({ path, name, value });
      else this.skippedXattrs.push(`${entry.name}: ${name}`);
    }
    if (writes.length > 0) this.xattrs.set(relative, writes);
  }

  async finish(): Promise<void> {
    const nodes: SpecialNode[] = [];
    const created: Array<{ path: string; entry: TarEntry }> = [];
    for (const [relative, pending] of this.pendingNodes) {
      const path = join(this.options.root, relative);
      if (pending.kind === 'whiteout') {
        // overlayfs' whiteout: a 0:0 character device hides the lower file of the same name.
        nodes.push({ path, type: 'char', mode: 0, major: 0, minor: 0 });
      } else {
        const { entry } = pending;
        const type = entry.type === 'fifo' ? 'fifo' : entry.type === 'block-device' ? 'block' : 'char';
        nodes.push({ path, type, mode: entry.mode, major: entry.devMajor, minor: entry.devMinor });
        created.push({ path, entry });
      }
    }
    await makeSpecialNodes(nodes);
    for (const { path, entry } of created) {
      if (this.preserveOwnership) lchownSync(path, entry.uid, entry.gid);
      chmodSync(path, entry.mode);
      utimesSync(path, entry.mtime, entry.mtime);
    }

    // Deepest first, so a parent's mtime is set after its children stop changing it.
    const directories = [...this.directoryEntries].sort(([a], [b]) => depthOf(b) - depthOf(a));
    for (const [relative, entry] of directories) {
      const path = join(this.options.root, relative);
      if (this.preserveOwnership) lchownSync(path, entry.uid, entry.gid);
      chmodSync(path, entry.mode);
    }
    const opaque = [...this.opaqueDirs].map((relative) => ({
      path: join(this.options.root, relative),
      name: 'trusted.overlay.opaque',
      value: Buffer.from('y'),
    }));
    await writeXattrs([...[...this.xattrs.values()].flat(), ...opaque]);
    for (const [relative, entry] of directories) {
      utimesSync(join(this.options.root, relative), entry.mtime, entry.mtime);
    }
  }
}

function depthOf(relative: string): number {
  return relative === '' ? 0 : relative.split('/').length;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
