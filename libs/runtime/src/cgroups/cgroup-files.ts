// Reading and writing control files with errors that name the file and the fix.
import { join } from 'node:path';
import { CgroupError } from './cgroup.types';
import { errorCode, type CgroupSystem } from './cgroup-system';

const WRITE_HINTS: Readonly<Record<string, string>> = {
  ENOENT: 'the controller file does not exist: the controller is not mounted or not enabled for this cgroup',
  EINVAL: 'the kernel rejected the value: check it against the limits of the parent cgroup',
  EBUSY: 'the cgroup is busy: its current usage exceeds the new limit or it still has tasks',
  EACCES: 'permission denied: cgroups are managed by root (or a delegated user)',
  EPERM: 'permission denied: cgroups are managed by root (or a delegated user)',
  EOPNOTSUPP: 'the kernel does not support this setting',
  ENOSPC: 'the cgroup has no CPUs or memory nodes (empty cpuset) or hit a limit',
};

export async function writeControl(
  system: CgroupSystem,
  directory: string,
  file: string,
  value: string,
): Promise<void> {
  const path = join(directory, file);
  try {
    await system.writeText(path, value);
  } catch (error) {
    const code = errorCode(error);
    const hint = (code && WRITE_HINTS[code]) ?? (error instanceof Error ? error.message : String(error));
    throw new CgroupError(`cannot write ${JSON.stringify(value)} to ${path}: ${hint}`, code);
  }
}

export async function readControl(system: CgroupSystem, directory: string, file: string): Promise<string> {
  const path = join(directory, file);
  try {
    return await system.readText(path);
  } catch (error) {
    const code = errorCode(error);
    throw new CgroupError(
      `cannot read ${path}: ${code === 'ENOENT' ? 'the cgroup or its controller is missing' : String(error)}`,
      code,
    );
  }
}

/** Reads a control file, or undefined when this kernel or mount does not have it. */
export async function readOptionalControl(
  system: CgroupSystem,
  directory: string,
  file: string,
): Promise<string | undefined> {
  try {
    return await system.readText(join(directory, file));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Reads a single integer control file ("12345\n"), or undefined when the file is absent. */
export async function readOptionalInteger(
  system: CgroupSystem,
  directory: string,
  file: string,
): Promise<bigint | undefined> {
  const text = await readOptionalControl(system, directory, file);
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) {
    throw new CgroupError(`${join(directory, file)} holds ${JSON.stringify(trimmed)}, not an integer`);
  }
  return BigInt(trimmed);
}

export function parsePids(text: string): number[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}
