// Files a build step adds: COPY/ADD sources from the build context (never outside it), local tar
// archives unpacked by ADD, and the parent directories a step creates, carrying the metadata the image
// already gives them so a COPY into /tmp does not turn /tmp's 1777 into 0755.
import { createReadStream, promises as fs, type Stats } from 'node:fs';
import { basename, join, posix, relative, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import { entryComponents } from '../layers/entry-path';
import { readTar } from '../layers/tar-reader';
import type { MemberToWrite } from '../layers/tar-writer';
import type { EntryToWrite } from '../layers/tar-header';
import { ContainerfileError } from './containerfile.parser';
import type { IgnoreMatcher } from './context-ignore';

export interface Ownership {
  readonly uid: number;
  readonly gid: number;
}

export interface CopyRequest {
  readonly contextDir: string;
  readonly sources: readonly string[];
  /** Absolute destination inside the image. */
  readonly destination: string;
  /** Layer directories of the image being built on, top first (to look up existing directories). */
  readonly lowerDirs: readonly string[];
  readonly owner?: Ownership;
  readonly mode?: number;
  /** ADD: local tar archives are unpacked into the destination. */
  readonly extractArchives: boolean;
  /**
   * COPY --from: sources are paths inside this root file system (another stage or image, mounted),
   * resolved with its symlinks taken relative to it, instead of paths in the build context.
   */
  readonly sourceRoot?: string;
  /** Context paths excluded by .containerignore/.dockerignore. */
  readonly ignore?: IgnoreMatcher;
  readonly line: number;
}

export interface CopyPlan {
  /** Read once, while the layer is written: archive contents stream straight from the archive. */
  readonly members: AsyncIterable<MemberToWrite>;
}

/**
 * Lists what a COPY/ADD writes, as tar members in order (parents first). File bodies are opened lazily,
 * so the plan itself is small.
 */
export async function planCopy(request: CopyRequest): Promise<CopyPlan> {
  const context = await fs.realpath(request.sourceRoot ?? request.contextDir);
  const isIgnored = (path: string): boolean => request.ignore?.(relative(context, path)) ?? false;
  const sources: Array<{ path: string; stat: Stats; name: string }> = [];
  for (const source of request.sources) {
    if (/^[a-z]+:\/\//i.test(source)) {
      throw new ContainerfileError(
        `ADD from a URL (${source}) is not supported; download it in a RUN step or put the file in the build context`,
        request.line,
      );
    }
    const wildcard = /[*?[]/.test(source);
    const paths =
      request.sourceRoot === undefined
        ? await expandSource(context, source, request.line)
        : [await resolveInRoot(context, source, request.line)];
    for (const path of paths) {
      if (isIgnored(path)) {
        if (wildcard) continue;
        throw new ContainerfileError(
          `COPY source ${JSON.stringify(source)} is excluded by the context's ignore file (.containerignore or .dockerignore)`,
          request.line,
        );
      }
      const stat = await fs.stat(path);
      sources.push({ path, stat, name: basename(path) });
    }
  }
  const destination = posix.normalize(request.destination);
  const destinationIsDirectory =
    request.destination.endsWith('/') ||
    sources.length > 1 ||
    sources.some((source) => source.stat.isDirectory());
  let members: MemberToWrite[] = [];
  // Archive contents are not listed up front: each archive is read while the layer is written.
  const parts: Array<MemberToWrite[] | (() => AsyncGenerator<MemberToWrite>)> = [members];
  const written = new Set<string>();
  // As Docker: what COPY and ADD create belongs to root unless --chown says otherwise.
  const ownership = (_stat: Stats): Pick<EntryToWrite, 'uid' | 'gid'> => request.owner ?? { uid: 0, gid: 0 };

  const addParents = async (path: string): Promise<void> => {
    const components = entryComponents(path, 'destination');
    for (let depth = 1; depth < components.length; depth++) {
      const relativePath = components.slice(0, depth).join('/');
      if (written.has(relativePath)) continue;
      written.add(relativePath);
      const existing = await lookupInImage(request.lowerDirs, relativePath);
      members.push({
        entry: existing?.isDirectory()
          ? {
              name: `${relativePath}/`,
              type: 'directory',
              mode: existing.mode & 0o7777,
              uid: existing.uid,
              gid: existing.gid,
              mtime: Math.floor(existing.mtimeMs / 1000),
            }
          : { name: `${relativePath}/`, type: 'directory', mode: 0o755, mtime: 0 },
      });
    }
  };

  const addTree = async (hostPath: string, stat: Stats, imagePath: string): Promise<void> => {
    const name = entryComponents(imagePath, 'destination').join('/');
    if (name === '')
      throw new ContainerfileError('cannot copy a file onto the image root itself', request.line);
    const common = { ...ownership(stat), mtime: Math.floor(stat.mtimeMs / 1000) };
    const mode = (stat.mode & 0o7777) as number;
    if (stat.isDirectory()) {
      written.add(name);
      members.push({ entry: { name: `${name}/`, type: 'directory', mode: request.mode ?? mode, ...common } });
      for (const child of (await fs.readdir(hostPath)).sort()) {
        const childPath = join(hostPath, child);
        if (isIgnored(childPath)) continue;
        await addTree(childPath, await fs.lstat(childPath), `${name}/${child}`);
      }
    } else if (stat.isSymbolicLink()) {
      members.push({ entry: { name, type: 'symlink', linkName: await fs.readlink(hostPath), ...common } });
    } else if (stat.isFile()) {
      members.push({
        entry: { name, type: 'file', size: stat.size, mode: request.mode ?? mode, ...common },
        body: lazyFile(hostPath),
      });
    } else {
      throw new ContainerfileError(
        `${relative(context, hostPath)} in the build context is a device, socket or fifo; COPY takes files, directories and symlinks`,
        request.line,
      );
    }
  };

  for (const source of sources) {
    if (request.extractArchives && source.stat.isFile() && (await isTarArchive(source.path))) {
      await addParents(`${destination}/x`);
      const archive = source.path;
      parts.push(() => archiveMembers(archive, destination, request.line));
      // Later members go after the archive's, so a file copied next still wins over the archive's copy.
      members = [];
      parts.push(members);
      continue;
    }
    if (source.stat.isDirectory()) {
      // Like Docker: a directory's contents are copied, not the directory itself.
      await addParents(`${destination}/x`);
      const target = entryComponents(destination, 'destination').join('/');
      if (target !== '' && !written.has(target)) {
        written.add(target);
        const existing = await lookupInImage(request.lowerDirs, target);
        members.push({
          entry: existing?.isDirectory()
            ? {
                name: `${target}/`,
                type: 'directory',
                mode: existing.mode & 0o7777,
                uid: existing.uid,
                gid: existing.gid,
                mtime: Math.floor(existing.mtimeMs / 1000),
              }
            : {
                name: `${target}/`,
                type: 'directory',
                mode: request.mode ?? 0o755,
                ...ownership(source.stat),
                mtime: Math.floor(source.stat.mtimeMs / 1000),
              },
        });
      }
      for (const child of (await fs.readdir(source.path)).sort()) {
        const childPath = join(source.path, child);
        if (isIgnored(childPath)) continue;
        await addTree(childPath, await fs.lstat(childPath), posix.join(destination, child));
      }
      continue;
    }
    const target = destinationIsDirectory ? posix.join(destination, source.name) : destination;
    await addParents(target);
    await addTree(source.path, source.stat, target);
  }
  return {
    members: (async function* () {
      for (const part of parts) yield* typeof part === 'function' ? part() : part;
    })(),
  };
}

/** Context paths, with "*" and "?" wildcards in the last component; never outside the context. */
async function expandSource(context: string, source: string, line: number): Promise<string[]> {
  const outside = (): ContainerfileError =>
    new ContainerfileError(
      `COPY source ${JSON.stringify(source)} is outside the build context; sources must be inside ${context}`,
      line,
    );
  const absolute = resolve(context, source.replace(/^\/+/, ''));
  if (relative(context, absolute).startsWith('..')) throw outside();
  const directory = posix.dirname(absolute);
  const pattern = posix.basename(absolute);
  let candidates: string[];
  if (/[*?[]/.test(pattern)) {
    const matcher = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}$`,
    );
    let names: string[] = [];
    try {
      names = await fs.readdir(directory);
    } catch {
      // reported below as "no file matches"
    }
    candidates = names
      .filter((name) => matcher.test(name))
      .sort()
      .map((name) => join(directory, name));
    if (candidates.length === 0)
      throw new ContainerfileError(
        `COPY source ${JSON.stringify(source)} matches no file in the build context`,
        line,
      );
  } else {
    candidates = [absolute];
  }
  const results: string[] = [];
  for (const candidate of candidates) {
    let real: string;
    try {
      real = await fs.realpath(candidate);
    } catch {
      throw new ContainerfileError(
        `COPY source ${JSON.stringify(source)} does not exist in the build context ${context}`,
        line,
      );
    }
    // A symlink in the context may not smuggle in a host file.
    if (relative(context, real).startsWith('..')) throw outside();
    results.push(real);
  }
  return results;
}

function lazyFile(path: string): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => createReadStream(path)[Symbol.asyncIterator](),
  };
}

async function isTarArchive(path: string): Promise<boolean> {
  const handle = await fs.open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    if (head[0] === 0x1f && head[1] === 0x8b) return true;
    return bytesRead === 512 && head.toString('latin1', 257, 262) === 'ustar';
  } finally {
    await handle.close();
  }
}

/** ADD's unpacking of a local (optionally gzip) tar: members are re-rooted under the destination. */
async function* archiveMembers(
  path: string,
  destination: string,
  line: number,
): AsyncGenerator<MemberToWrite> {
  const head = Buffer.alloc(2);
  const handle = await fs.open(path, 'r');
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const base = entryComponents(destination, 'destination').join('/');
  const stream = gzip ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
  let count = 0;
  for await (const member of readTar(stream)) {
    // The archive is as untrusted as any layer: its names are checked the same way.
    const name = entryComponents(member.entry.name, `entry of ${basename(path)}`).join('/');
    if (name === '') continue;
    count++;
    const target = base === '' ? name : `${base}/${name}`;
    const entry: EntryToWrite = {
      ...member.entry,
      name: member.entry.type === 'directory' ? `${target}/` : target,
    };
    if (member.entry.type === 'hardlink') {
      const linkTarget = entryComponents(member.entry.linkName, `hardlink in ${basename(path)}`).join('/');
      yield { entry: { ...entry, linkName: base === '' ? linkTarget : `${base}/${linkTarget}` } };
    } else if (member.entry.type === 'file') {
      // The tar writer drains this body before the reader moves on to the next member.
      yield { entry: { ...entry, size: member.entry.size }, body: member.body };
    } else {
      yield { entry };
    }
  }
  if (count === 0) throw new ContainerfileError(`${basename(path)} is an empty archive`, line);
}

/**
 * Resolves a path inside another root file system the way the kernel would after chroot: symlinks
 * (absolute ones included) and ".." never leave the root. Answers the host path of the result.
 */
export async function resolveInRoot(root: string, path: string, line: number): Promise<string> {
  if (/[*?[]/.test(path))
    throw new ContainerfileError(
      `COPY --from does not take wildcards (${path}); name the file or directory`,
      line,
    );
  const pending = path.split('/').filter((part) => part !== '' && part !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const component = pending.shift() as string;
    if (component === '..') {
      resolved.pop();
      continue;
    }
    const host = join(root, ...resolved, component);
    const stat = await fs.lstat(host).catch(() => undefined);
    if (stat === undefined)
      throw new ContainerfileError(
        `COPY --from source ${JSON.stringify(path)} does not exist in that image`,
        line,
      );
    if (stat.isSymbolicLink()) {
      if (++links > 40)
        throw new ContainerfileError(`COPY --from source ${JSON.stringify(path)} has a symlink loop`, line);
      const target = await fs.readlink(host);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter((part) => part !== '' && part !== '.'));
      continue;
    }
    resolved.push(component);
  }
  return join(root, ...resolved);
}

/** Finds a path in an image's layers, top first, honouring whiteouts; undefined when absent. */
export async function lookupInImage(
  lowerDirs: readonly string[],
  relativePath: string,
): Promise<Stats | undefined> {
  for (const dir of lowerDirs) {
    const stat = await fs.lstat(join(dir, relativePath)).catch(() => undefined);
    if (stat === undefined) continue;
    if (stat.isCharacterDevice() && stat.rdev === 0) return undefined;
    return stat;
  }
  return undefined;
}
