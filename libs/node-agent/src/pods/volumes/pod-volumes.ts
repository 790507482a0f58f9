// A pod's volumes on the node, as kubelet's volume plugins make them: emptyDir (a directory under the
// pod, tmpfs for medium Memory), hostPath (checked by its type), configMap and secret (files written
// from the object's data, swapped atomically through a "..data" symlink so a container never reads a
// half-written set, and refreshed when the object changes).
import { execFile } from 'node:child_process';
import {
  chmod,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { Quantity, type ConfigMap, type Container, type Pod, type Secret, type Volume } from '@flotilla/api';
import type { VolumeMount } from '@flotilla/runtime';
import { objectData, type ReferencedKind } from '../container-env.util';

const run = promisify(execFile);

export type ResolveObject = (reference: {
  kind: ReferencedKind;
  namespace: string;
  name: string;
}) => Promise<object | undefined>;

/** A volume cannot be set up (kubelet's FailedMount); the pod waits in ContainerCreating and retries. */
export class VolumeError extends Error {
  override readonly name = 'VolumeError';
}

const DATA_LINK = '..data';
const DEFAULT_MODE = 0o644;

function volumesDir(podDir: string): string {
  return join(podDir, 'volumes');
}

async function isMountPoint(path: string): Promise<boolean> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo.split('\n').some((line) => line.split(' ')[4] === path);
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

async function setUpEmptyDir(path: string, volume: Volume): Promise<void> {
  await mkdir(path, { recursive: true });
  await chmod(path, 0o777);
  if (volume.emptyDir?.medium !== 'Memory' || (await isMountPoint(path))) return;
  const options = ['mode=0777'];
  if (volume.emptyDir.sizeLimit !== undefined) {
    options.push(`size=${Quantity.parse(String(volume.emptyDir.sizeLimit)).value().toString()}`);
  }
  try {
    await run('mount', ['-t', 'tmpfs', '-o', options.join(','), 'tmpfs', path]);
  } catch (error) {
    throw new VolumeError(
      `cannot mount a tmpfs for emptyDir volume "${volume.name}" at ${path}: ${(error as Error).message.trim()}; the node agent must run as root`,
    );
  }
}

async function checkHostPath(volume: Volume): Promise<string> {
  const source = volume.hostPath;
  if (!source) throw new VolumeError(`volume "${volume.name}" has no hostPath`);
  const path = normalize(source.path);
  if (!path.startsWith('/'))
    throw new VolumeError(`hostPath ${source.path} of volume "${volume.name}" must be absolute`);
  const type = source.type ?? '';
  const found = await stat(path).catch(() => undefined);
  const fail = (what: string): never => {
    throw new VolumeError(`hostPath type check failed: ${path} is not ${what}`);
  };
  switch (type) {
    case '':
      if (!found)
        throw new VolumeError(`hostPath ${path} of volume "${volume.name}" does not exist on the node`);
      break;
    case 'DirectoryOrCreate':
      if (!found) await mkdir(path, { recursive: true, mode: 0o755 });
      else if (!found.isDirectory()) fail('a directory');
      break;
    case 'Directory':
      if (!found?.isDirectory()) fail('a directory');
      break;
    case 'FileOrCreate':
      if (!found) {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, '', { mode: 0o644, flag: 'a' });
      } else if (!found.isFile()) fail('a file');
      break;
    case 'File':
      if (!found?.isFile()) fail('a file');
      break;
    case 'Socket':
      if (!found?.isSocket()) fail('a socket file');
      break;
    case 'CharDevice':
      if (!found?.isCharacterDevice()) fail('a character device');
      break;
    case 'BlockDevice':
      if (!found?.isBlockDevice()) fail('a block device');
      break;
    default:
      throw new VolumeError(
        `hostPath type ${JSON.stringify(type)} of volume "${volume.name}" is not supported`,
      );
  }
  return path;
}

/** A relative path inside the volume; ".." or absolute paths would write outside it. */
function safeRelative(path: string, what: string): string {
  const normalized = normalize(path);
  if (
    path === '' ||
    normalized.startsWith('/') ||
    normalized.split(sep).includes('..') ||
    normalized === '.'
  ) {
    throw new VolumeError(`${what} ${JSON.stringify(path)} must be a relative path without ".."`);
  }
  return normalized;
}

interface ProjectedFile {
  data: Buffer;
  mode: number;
}

async function projectedFiles(
  volume: Volume,
  pod: Pod,
  resolveObject: ResolveObject | undefined,
): Promise<Map<string, ProjectedFile>> {
  const kind: ReferencedKind = volume.configMap ? 'ConfigMap' : 'Secret';
  const source = volume.configMap ?? volume.secret;
  const name = volume.configMap?.name ?? volume.secret?.secretName;
  const namespace = pod.metadata.namespace ?? 'default';
  if (!source || !name) throw new VolumeError(`volume "${volume.name}" names no ${kind}`);
  const lowerKind = kind === 'ConfigMap' ? 'configmap' : 'secret';
  if (!resolveObject) {
    throw new VolumeError(
      `${lowerKind} "${name}" cannot be read: this node agent was started without an API connection`,
    );
  }
  const object = (await resolveObject({ kind, namespace, name })) as ConfigMap | Secret | undefined;
  const files = new Map<string, ProjectedFile>();
  if (object === undefined) {
    if (source.optional) return files;
    throw new VolumeError(`${lowerKind} "${name}" not found`);
  }
  const data = objectData(kind, object);
  const defaultMode = source.defaultMode ?? DEFAULT_MODE;
  if (source.items && source.items.length > 0) {
    for (const item of source.items) {
      const value = data.get(item.key);
      if (value === undefined) {
        if (source.optional) continue;
        throw new VolumeError(`${lowerKind} references non-existent config key: ${item.key}`);
      }
      files.set(safeRelative(item.path, 'item path'), { data: value, mode: item.mode ?? defaultMode });
    }
  } else {
    for (const [key, value] of data) files.set(safeRelative(key, 'key'), { data: value, mode: defaultMode });
  }
  return files;
}

async function currentPayload(dir: string): Promise<Map<string, string> | undefined> {
  const target = await readlink(join(dir, DATA_LINK)).catch(() => undefined);
  if (target === undefined) return undefined;
  const manifest = await readFile(join(dir, target, '..manifest'), 'utf8').catch(() => undefined);
  return manifest === undefined ? undefined : new Map(JSON.parse(manifest) as Array<[string, string]>);
}

function fingerprint(files: Map<string, ProjectedFile>): Map<string, string> {
  return new Map([...files].map(([path, file]) => [path, `${file.mode}:${file.data.toString('base64')}`]));
}

function samePayload(left: Map<string, string> | undefined, right: Map<string, string>): boolean {
  if (left === undefined || left.size !== right.size) return false;
  return [...right].every(([path, value]) => left.get(path) === value);
}

/** kubelet's AtomicWriter: a new timestamped directory, then one rename of the ..data link. */
async function writeAtomically(dir: string, files: Map<string, ProjectedFile>): Promise<void> {
  const payload = fingerprint(files);
  if (samePayload(await currentPayload(dir), payload)) return;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const stamp = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`;
  const staged = join(dir, stamp);
  await mkdir(staged, { mode: 0o755 });
  for (const [path, file] of files) {
    await mkdir(dirname(join(staged, path)), { recursive: true, mode: 0o755 });
    await writeFile(join(staged, path), file.data, { mode: file.mode });
    await chmod(join(staged, path), file.mode);
  }
  await writeFile(join(staged, '..manifest'), JSON.stringify([...payload]), { mode: 0o600 });
  const previous = await readlink(join(dir, DATA_LINK)).catch(() => undefined);
  await rm(join(dir, '..data_tmp'), { force: true });
  await symlink(stamp, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, DATA_LINK));
  const topLevel = new Set([...files.keys()].map((path) => path.split(sep)[0] ?? path));
  for (const name of topLevel) {
    const link = join(dir, name);
    if (!(await exists(link))) await symlink(join(DATA_LINK, name), link);
  }
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('..') || topLevel.has(entry)) continue;
    await rm(join(dir, entry), { recursive: true, force: true });
  }
  if (previous !== undefined && previous !== stamp)
    await rm(join(dir, previous), { recursive: true, force: true });
}

export interface VolumeSetUp {
  pod: Pod;
  podDir: string;
  resolveObject?: ResolveObject;
}

/** Makes (or refreshes) every volume of the pod; returns each volume's path on the node. */
export async function setUpVolumes(input: VolumeSetUp): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  for (const volume of input.pod.spec.volumes ?? []) {
    const path = join(volumesDir(input.podDir), safeRelative(volume.name, 'volume name'));
    if (volume.emptyDir) {
      await setUpEmptyDir(path, volume);
      paths.set(volume.name, path);
    } else if (volume.hostPath) {
      paths.set(volume.name, await checkHostPath(volume));
    } else if (volume.configMap || volume.secret) {
      await writeAtomically(path, await projectedFiles(volume, input.pod, input.resolveObject));
      paths.set(volume.name, path);
    } else {
      throw new VolumeError(
        `volume "${volume.name}" has a type this node does not support; use emptyDir, hostPath, configMap or secret`,
      );
    }
  }
  return paths;
}

/** Unmounts tmpfs volumes and removes the pod's volume directories (hostPaths are left alone). */
export async function tearDownVolumes(podDir: string): Promise<void> {
  const dir = volumesDir(podDir);
  for (const entry of await readdir(dir).catch(() => [])) {
    const path = join(dir, entry);
    if (await isMountPoint(path)) {
      await run('umount', [path]).catch(async () => run('umount', ['-l', path]));
    }
  }
  await rm(dir, { recursive: true, force: true });
}

/** The container's volumeMounts as the runtime's bind mounts. */
export function mountsFor(container: Container, paths: ReadonlyMap<string, string>): VolumeMount[] {
  return (container.volumeMounts ?? []).map((mount) => {
    const source = paths.get(mount.name);
    if (source === undefined) {
      throw new VolumeError(
        `container ${container.name} mounts volume "${mount.name}", which the pod does not define`,
      );
    }
    const subPath = mount.subPath ? safeRelative(mount.subPath, 'subPath') : undefined;
    const full = subPath === undefined ? source : join(source, subPath);
    if (subPath !== undefined && relative(source, full).startsWith('..')) {
      throw new VolumeError(`subPath ${mount.subPath} leaves volume "${mount.name}"`);
    }
    return { source: full, target: mount.mountPath, readOnly: mount.readOnly ?? false };
  });
}
