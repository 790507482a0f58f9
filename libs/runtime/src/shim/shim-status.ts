// What the shim leaves in a container directory, read back by any process: init.pid while the
// container runs, status once its init has exited. The files are a few bytes on local disk (and
// /proc is in memory), so they are read synchronously: a read through libuv's thread pool costs
// more than the read itself, and every state query makes three of them.
import { readFileSync } from 'node:fs';
import { errnoCode } from './errno';

/** How the container's init ended, as the shim recorded it. */
export interface ShimExitStatus {
  /** The exit code, or 128 + signal when a signal ended it (as shells and Docker report it). */
  exitCode: number;
  /** The signal that ended the init, or 0. */
  signal: number;
  /** The container's cgroup saw the OOM killer act. */
  oomKilled: boolean;
  finishedAt: string;
  /** Why the start failed, when the init never reached the user's program. */
  error?: string;
}

/** A pid with its start time names one process for good: a recycled pid has another start time. */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

function fields(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const line of text.split('\n')) {
    const equals = line.indexOf('=');
    if (equals > 0) result.set(line.slice(0, equals), line.slice(equals + 1));
  }
  return result;
}

export function parseShimStatus(text: string): ShimExitStatus {
  const values = fields(text);
  const exitCode = Number(values.get('exit_code'));
  const signal = Number(values.get('signal') ?? '0');
  if (!Number.isInteger(exitCode) || !Number.isInteger(signal)) {
    throw new Error(`malformed shim status file: ${JSON.stringify(text)}`);
  }
  const error = values.get('error');
  return {
    exitCode,
    signal,
    oomKilled: values.get('oom_killed') === '1',
    finishedAt: values.get('finished_at') ?? '',
    ...(error !== undefined ? { error } : {}),
  };
}

export function parseProcessIdentity(text: string): ProcessIdentity {
  const [pid, startTime] = text.trim().split(/\s+/);
  const parsed = Number(pid);
  if (!Number.isInteger(parsed) || parsed <= 0 || startTime === undefined || !/^\d+$/.test(startTime)) {
    throw new Error(`malformed pid file: ${JSON.stringify(text)}`);
  }
  return { pid: parsed, startTime };
}

/** Field 22 of /proc/PID/stat, or undefined when the process is gone. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[22 - 3];
}

export async function isSameProcessAlive(identity: ProcessIdentity): Promise<boolean> {
  return (await processStartTime(identity.pid)) === identity.startTime;
}

export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return readFileSync(path, 'utf8');
  } catch (error: unknown) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}
