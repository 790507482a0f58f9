// The kernel surface the cgroup drivers touch: a handful of file operations on cgroupfs and sending
// signals. Drivers take it as an injected dependency so hermetic specs can run them against a fake
// cgroup tree in a temp dir, where the "processes" are numbers and must never be signalled for real.
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmdirSync,
  statSync,
  writeSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';

export interface CgroupSystem {
  readText(path: string): Promise<string>;
  /** Writes an existing control file; never creates one (cgroupfs files exist or the feature is absent). */
  writeText(path: string, value: string): Promise<void>;
  /** Creates one directory level; resolves false when it already existed. */
  makeDirectory(path: string): Promise<boolean>;
  removeDirectory(path: string): Promise<void>;
  listSubdirectories(path: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  realPath(path: string): Promise<string>;
  /** Sends a signal to a process; a process that has already gone is not an error. */
  signal(pid: number, signal: NodeJS.Signals): void;
}

/** The errno code of a node:fs or process.kill failure, if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

function writeExistingSync(path: string, value: string): void {
  const fd = openSync(path, constants.O_WRONLY);
  try {
    writeSync(fd, value);
  } finally {
    closeSync(fd);
  }
}

const MIGRATION_FILE = /\/(cgroup\.procs|tasks|cgroup\.subtree_control)$/;

/**
 * The real kernel: cgroupfs files through node:fs and signals through process.kill. The calls are
 * synchronous on purpose: cgroupfs lives in kernel memory and answers in microseconds, while a
 * round trip through libuv's thread pool costs 50-100 µs per call, and a container start makes a
 * dozen of them. Moving a process (cgroup.procs, tasks) is the exception: it waits for an RCU grace
 * period, milliseconds that must not stall the event loop.
 */
export const hostCgroupSystem: CgroupSystem = {
  readText: async (path) => readFileSync(path, 'utf8'),
  // O_WRONLY without O_CREAT or O_TRUNC: a missing control file must fail as ENOENT, not be created.
  writeText: async (path, value) =>
    MIGRATION_FILE.test(path)
      ? writeFile(path, value, { flag: constants.O_WRONLY })
      : writeExistingSync(path, value),
  async makeDirectory(path) {
    try {
      mkdirSync(path);
      return true;
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return false;
      throw error;
    }
  },
  removeDirectory: async (path) => rmdirSync(path),
  async listSubdirectories(path) {
    const entries = readdirSync(path, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  },
  async exists(path) {
    try {
      statSync(path);
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return false;
      throw error;
    }
  },
  realPath: async (path) => realpathSync(path),
  signal(pid, signal) {
    try {
      process.kill(pid, signal);
    } catch (error) {
      if (errorCode(error) !== 'ESRCH') throw error;
    }
  },
};
