// Starting the shim and learning whether the container started. The shim daemonizes at once; its
// verdict arrives as lines (on fd 3, or relayed by the resident launcher): "created PID"
// (namespaces in place, init held), then "started" (execve succeeded) or "error MESSAGE".
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import {
  NetworkError,
  type NamespaceConfigurator,
  type NamespaceInterfaceSetup,
} from '../network/network.types';

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

/** A ShimLaunch from the shim's status lines, however they arrive. */
function launchFrom(statusLines: AsyncIterable<string>, endedWithout: () => string): ShimLaunch {
  let resolveCreated: (pid: number) => void = () => undefined;
  let rejectCreated: (error: Error) => void = () => undefined;
  const created = new Promise<number>((resolve, reject) => {
    resolveCreated = resolve;
    rejectCreated = reject;
  });
  const started = (async (): Promise<void> => {
    for await (const line of statusLines) {
      if (line.startsWith('created ')) {
        resolveCreated(Number(line.slice('created '.length)));
      } else if (line === 'started') {
        return;
      } else if (line.startsWith('error ')) {
        throw new ShimStartError(line.slice('error '.length));
      }
    }
    throw new ShimStartError(`the shim ended before the container started: ${endedWithout()}`);
  })();
  started.catch((error: unknown) => rejectCreated(error instanceof Error ? error : new Error(String(error))));
  // Whoever awaits only `started` must not see an unhandled rejection from `created`.
  created.catch(() => undefined);
  return { created, started };
}

/** Spawns `flotilla-shim run DIR 3` from this process: one fork of Node per container. */
export function launchShim(shimPath: string, containerDir: string): ShimLaunch {
  const child = spawn(shimPath, ['run', containerDir, '3'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: shimEnvironment(),
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const launch = launchFrom(
    lines(child.stdio[3] as Readable),
    () =>
      spawnError?.message ?? (stderr.trim() || 'no reason given; see shim.log in the container directory'),
  );
  const spawnFailure = new Promise<never>((_resolve, reject) => {
    child.once('error', (error) =>
      reject(new ShimStartError(`cannot run the shim ${shimPath}: ${error.message}`)),
    );
  });
  spawnFailure.catch(() => undefined);
  return { created: launch.created, started: Promise.race([launch.started, spawnFailure]) };
}

/** Lines pushed by one reader and consumed by one async iteration. */
class LineQueue implements AsyncIterable<string> {
  private readonly queued: string[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  push(line: string): void {
    this.queued.push(line);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      const line = this.queued.shift();
      if (line !== undefined) yield line;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

export interface ResidentShimLauncherOptions {
  /** How long a net request may wait for the launcher's answer (default 30 s). */
  netAnswerMs?: number;
}

/**
 * Starts shims through one resident `flotilla-shim launcher` (native/shim/launcher.c) instead of a
 * fork of this process per container: forking Node costs time in proportion to its memory, forking
 * the small launcher does not. The launcher is spawned on first use and again if it dies; it does not
 * keep this process alive, and it exits when this process does. It also configures pod network
 * namespaces from inside (configureInterface), which would otherwise need a process per namespace.
 */
export class ResidentShimLauncher implements NamespaceConfigurator {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, LineQueue>();

  private readonly netAnswerMs: number;

  constructor(
    private readonly shimPath: string,
    options: ResidentShimLauncherOptions = {},
  ) {
    this.netAnswerMs = options.netAnswerMs ?? 30_000;
  }

  launch(containerDir: string): ShimLaunch {
    // The request is one line; a directory with a newline in it goes the direct way.
    if (containerDir.includes('\n')) return launchShim(this.shimPath, containerDir);
    return launchFrom(
      this.request('run', containerDir).queue,
      () => 'no reason given; see shim.log in the container directory',
    );
  }

  /**
   * Joins the namespace in a child of the launcher and configures it with rtnetlink: lo up, the
   * address on the device, the device up, the default route via the gateway (native/shim/netns.c).
   * Rejects with the step that failed and the kernel's reason.
   */
  async configureInterface(setup: NamespaceInterfaceSetup): Promise<void> {
    const words = [setup.device, `${setup.address}/${setup.prefixLength}`, setup.gateway];
    if (words.some((word) => /\s/.test(word) || word === '') || /[\n\r]/.test(setup.namespacePath)) {
      throw new NetworkError(
        `cannot configure ${JSON.stringify(setup.device)} in ${JSON.stringify(setup.namespacePath)}: the launcher takes no blanks in the device, address or gateway and no newline in the path`,
      );
    }
    const said: string[] = [];
    const { id, queue } = this.request('net', [...words, setup.namespacePath].join(' '));
    // A launcher built before net requests existed ignores them: say so instead of waiting forever.
    const deadline = setTimeout(
      () =>
        this.abandon(
          id,
          `the shim launcher ${this.shimPath} did not answer within ${this.netAnswerMs / 1000} s; one built before net requests ignores them: rebuild it (make -C native/shim)`,
        ),
      this.netAnswerMs,
    );
    try {
      for await (const line of queue) {
        if (line === 'ok') return;
        said.push(line.startsWith('error ') ? line.slice('error '.length) : line);
      }
    } finally {
      clearTimeout(deadline);
    }
    throw new NetworkError(
      `configuring ${setup.device} in ${setup.namespacePath} failed: ${said.join('; ') || 'the launcher gave no answer'}`,
    );
  }

  /** Sends `VERB ID ARGUMENTS`; the lines the launcher answers with that ID, until its `ID end`. */
  private request(verb: 'run' | 'net', args: string): { id: number; queue: LineQueue } {
    const child = this.running();
    const id = this.nextId++;
    const queue = new LineQueue();
    this.waiting.set(id, queue);
    if (this.waiting.size === 1) this.hold(child, true);
    child.stdin?.write(`${verb} ${id} ${args}\n`);
    return { id, queue };
  }

  /** Ends a request with an error of ours; a late answer from the launcher is then dropped. */
  private abandon(id: number, reason: string): void {
    const queue = this.waiting.get(id);
    if (queue === undefined) return;
    queue.push(`error ${reason}`);
    queue.end();
    this.waiting.delete(id);
    if (this.waiting.size === 0 && this.child) this.hold(this.child, false);
  }

  private running(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const child = spawn(this.shimPath, ['launcher'], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: shimEnvironment(),
    });
    this.child = child;
    const gone = (reason: string): void => {
      if (this.child === child) this.child = undefined;
      for (const [id, queue] of this.waiting) {
        queue.push(`error ${reason}`);
        queue.end();
        this.waiting.delete(id);
      }
    };
    child.once('error', (error) => gone(`cannot run the shim launcher ${this.shimPath}: ${error.message}`));
    child.once('exit', (code, signal) => gone(`the shim launcher ended (${signal ?? `exit ${code}`})`));
    child.stdin?.on('error', () => undefined); // a dead launcher is reported by 'exit'
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        this.dispatch(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    });
    this.hold(child, false);
    return child;
  }

  /** `ID line` from the launcher; `ID end` closes that start's lines. */
  private dispatch(reply: string): void {
    const space = reply.indexOf(' ');
    const id = Number(reply.slice(0, space));
    const queue = this.waiting.get(id);
    if (queue === undefined) return;
    const line = reply.slice(space + 1);
    if (line !== 'end') {
      queue.push(line);
      return;
    }
    queue.end();
    this.waiting.delete(id);
    if (this.waiting.size === 0 && this.child) this.hold(this.child, false);
  }

  /** Keeps this process alive only while a start is waiting for its answer. */
  private hold(child: ChildProcess, alive: boolean): void {
    const handles = [child, child.stdout, child.stdin] as Array<{ ref?(): void; unref?(): void } | null>;
    for (const handle of handles) {
      if (alive) handle?.ref?.();
      else handle?.unref?.();
    }
  }
}

export interface ShimExecOptions {
  /** Inherit the caller's stdio (interactive use; the shim relays a pty when the process has a tty). */
  inheritStdio: boolean;
  /**
   * With a tty and piped stdio: a fourth pipe (stdio[3]) takes "ROWS COLS\n" lines that set the
   * pty's window size, since the shim cannot read a size off a pipe.
   */
  resizeChannel?: boolean;
}

export function spawnShimExec(
  shimPath: string,
  containerDir: string,
  execConfigPath: string,
  options: ShimExecOptions,
): ChildProcess {
  if (options.resizeChannel && !options.inheritStdio) {
    return spawn(shimPath, ['exec', containerDir, execConfigPath, '3'], {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
  }
  const stdio: StdioOptions = options.inheritStdio ? 'inherit' : ['pipe', 'pipe', 'pipe'];
  return spawn(shimPath, ['exec', containerDir, execConfigPath], { stdio });
}

/** Sets the window size of an exec's pty started with `resizeChannel`; ignored once it has exited. */
export function resizeExec(child: ChildProcess, size: { rows: number; columns: number }): void {
  const channel = child.stdio[3];
  if (!channel || !('write' in channel) || channel.destroyed || !channel.writable) return;
  const rows = Math.max(1, Math.min(65_535, Math.floor(size.rows)));
  const columns = Math.max(1, Math.min(65_535, Math.floor(size.columns)));
  channel.write(`${rows} ${columns}\n`);
}
