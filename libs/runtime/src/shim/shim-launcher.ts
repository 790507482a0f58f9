// Starting the shim and learning whether the container started. The shim daemonizes at once; its
// verdict arrives on fd 3 as lines: "created PID" (namespaces and cgroups in place, init held),
// then "started" (execve succeeded) or "error MESSAGE".
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Readable } from 'node:stream';

export class ShimStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShimStartError';
  }
}

export interface ShimLaunch {
  /** The init's pid on the host, once the shim reported it. */
  readonly created: Promise<number>;
  /** Resolves when the user's program runs; rejects with the shim's reason when it cannot. */
  readonly started: Promise<void>;
}

async function* lines(stream: Readable): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of stream) {
    pending += String(chunk);
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
  if (pending) yield pending;
}

/**
 * The shim reads nothing from its environment (the container's comes from shim.conf), and a
 * daemon should not keep the caller's: only the trace switch passes (see native/shim/util.c).
 */
function shimEnvironment(): NodeJS.ProcessEnv {
  const trace = process.env['FLOTILLA_SHIM_TRACE'];
  return trace === undefined ? {} : { FLOTILLA_SHIM_TRACE: trace };
}

export function launchShim(shimPath: string, containerDir: string): ShimLaunch {
  const child = spawn(shimPath, ['run', containerDir, '3'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: shimEnvironment(),
  });
  const statusStream = child.stdio[3] as Readable;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const spawnFailure = new Promise<never>((_resolve, reject) => {
    child.once('error', (error) =>
      reject(new ShimStartError(`cannot run the shim ${shimPath}: ${error.message}`)),
    );
  });

  let resolveCreated: (pid: number) => void = () => undefined;
  let rejectCreated: (error: Error) => void = () => undefined;
  const created = new Promise<number>((resolve, reject) => {
    resolveCreated = resolve;
    rejectCreated = reject;
  });
  const verdict = (async (): Promise<void> => {
    let pid: number | undefined;
    for await (const line of lines(statusStream)) {
      if (line.startsWith('created ')) {
        pid = Number(line.slice('created '.length));
        resolveCreated(pid);
      } else if (line === 'started') {
        return;
      } else if (line.startsWith('error ')) {
        throw new ShimStartError(line.slice('error '.length));
      }
    }
    const detail = stderr.trim() || 'no reason given; see shim.log in the container directory';
    throw new ShimStartError(`the shim ended before the container started: ${detail}`);
  })();
  const started = Promise.race([verdict, spawnFailure]);
  started.catch((error: unknown) => rejectCreated(error instanceof Error ? error : new Error(String(error))));
  // Whoever awaits only `started` must not see an unhandled rejection from `created`.
  created.catch(() => undefined);
  return { created, started };
}

export interface ShimExecOptions {
  /** Inherit the caller's stdio (interactive use; the shim relays a pty when the process has a tty). */
  inheritStdio: boolean;
}

export function spawnShimExec(
  shimPath: string,
  containerDir: string,
  execConfigPath: string,
  options: ShimExecOptions,
): ChildProcess {
  const stdio: StdioOptions = options.inheritStdio ? 'inherit' : ['pipe', 'pipe', 'pipe'];
  return spawn(shimPath, ['exec', containerDir, execConfigPath], { stdio });
}
