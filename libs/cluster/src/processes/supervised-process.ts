// Components of a local cluster (etcd, Redis, the apiserver, ...) run as detached children with their
// output in a log file, so `flotilla up` can return while they keep running and `flotilla down`, or a
// later `up`, finds them again by pid.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ProcessSpec {
  /** A short name used in progress output and errors: "etcd". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface StartedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
}

export class ComponentError extends Error {}

/** Starts the process in its own session so it outlives the CLI that started it. */
export function startDetached(spec: ProcessSpec): StartedProcess {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const log = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, [...spec.args], {
      detached: true,
      stdio: ['ignore', log, log],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
    });
    if (child.pid === undefined) {
      throw new ComponentError(`${spec.name}: could not start ${spec.command}`);
    }
    child.unref();
    return { name: spec.name, pid: child.pid, logFile: spec.logFile };
  } finally {
    closeSync(log);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); it is not running.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
}

/**
 * Polls `ready` until it answers true; fails early if the process died, quoting the end of its log so
 * the user sees why (a port in use, a bad flag) without hunting for the file.
 */
export async function waitUntilReady(
  started: StartedProcess,
  ready: () => Promise<boolean>,
  options: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (await ready()) return;
    if (!isAlive(started.pid)) {
      throw new ComponentError(
        `${started.name} exited during start-up; last lines of ${started.logFile}:\n${tail(started.logFile, 15)}`,
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
  throw new ComponentError(
    `${started.name} did not become ready within ${options.timeoutMs / 1000} s; see ${started.logFile}:\n${tail(started.logFile, 15)}`,
  );
}

/** SIGTERM, then SIGKILL after the grace period. Resolves once the process is gone. */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  while (isAlive(pid)) await sleep(20);
}

export function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
