// What keeps the jest process alive once every test has finished. Tests run in band here (two cores:
// one worker), so a Redis client, gRPC session or child process a test forgot to close lives in the
// main process and holds it open after the global teardown. Instead of jest's --forceExit, which
// hides such a leak, the teardown names what is left and then ends the run with jest's own verdict.
import { ChildProcess } from 'node:child_process';
import { Server, Socket } from 'node:net';

interface Refable {
  hasRef?: () => boolean;
}

function activeHandles(): unknown[] {
  const probe = process as unknown as { _getActiveHandles?: () => unknown[] };
  return probe._getActiveHandles?.() ?? [];
}

/** One line per handle that keeps the event loop alive, with what it is connected to. */
export function describeOpenHandles(names: ReadonlyMap<string, string> = new Map()): string[] {
  const lines: string[] = [];
  for (const handle of activeHandles()) {
    if (handle === process.stdin || handle === process.stdout || handle === process.stderr) continue;
    if ((handle as Refable).hasRef?.() === false) continue;
    if (handle instanceof Socket) {
      if (handle.remotePort === undefined) {
        lines.push('a socket or pipe without a peer address');
        continue;
      }
      const remote = `${handle.remoteAddress ?? '?'}:${handle.remotePort}`;
      const what = names.get(String(handle.remotePort));
      lines.push(
        `socket ${handle.localAddress ?? '?'}:${handle.localPort ?? '?'} → ${remote}${what ? ` (${what})` : ''}` +
          `${handle.readyState === 'writeOnly' ? ', closed by the peer and never by us' : ''}`,
      );
    } else if (handle instanceof Server) {
      const address = handle.address();
      lines.push(
        `server listening on ${typeof address === 'string' ? address : `${address?.address}:${address?.port}`}`,
      );
    } else if (handle instanceof ChildProcess) {
      lines.push(`child process ${handle.pid ?? '?'}: ${handle.spawnargs.join(' ')}`);
    } else {
      lines.push(`a ${(handle as object).constructor?.name ?? typeof handle}`);
    }
  }
  const timers = process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
  if (timers > 0) lines.push(`${timers} timer(s) (an interval someone did not clear, or a pending retry)`);
  return lines;
}

/**
 * If the process is still running `graceMs` after the call, prints what holds it and exits; the exit
 * code stays jest's (it sets a failing run's code on exit). The timer itself holds nothing.
 */
export function exitWhenHeldOpen(options: { graceMs: number; names?: ReadonlyMap<string, string> }): void {
  const timer = setTimeout(() => {
    const open = describeOpenHandles(options.names);
    process.stderr.write(
      `\njest was still running ${options.graceMs / 1000} s after the last test; a test left these open ` +
        `(close them in its afterAll):\n  ${open.length > 0 ? open.join('\n  ') : '(nothing visible to Node)'}\n`,
    );
    process.exit();
  }, options.graceMs);
  timer.unref();
}
