// One long-lived `ip -force -batch -` fed line by line, for a process that sets up many namespaces
// (the node agent: one sandbox per pod). Spawning ip from a large Node process forks that process:
// measured here at 17–25 ms of blocked event loop per spawn on a loaded machine, more than the rest
// of a pod's set-up together. Here ip is spawned once per burst, and each request costs a pipe write.
//
// ip in batch mode reads stdin as it goes, so requests queue naturally. Its stdout is block-buffered
// (a pipe), but stderr is not: every failed line prints its error, then "Command failed -:N" with
// the line number. So each request ends with a sentinel line that always fails (`link show dev a/b`:
// "/" can never be in an interface name), and the sentinel's "Command failed" says the request's
// lines have all run; failures reported for lines in between belong to the request. -force keeps ip
// going past a failed line, so one request's failure never swallows the next request.
//
// Requests that need ip's output cannot come through here (stdout is not read); use runCommand.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Socket } from 'node:net';
import { NetworkError } from './network.types';

export interface IpBatchSessionOptions {
  /** The ip binary (default "ip" on PATH). */
  command?: string;
  /** ip exits after this long without requests, so no stale process or cache lingers (default 5 s). */
  idleMs?: number;
}

/** What ip said about the lines of one request that failed; empty when all of them succeeded. */
export interface IpBatchResult {
  errors: string[];
}

interface Request {
  firstLine: number;
  sentinelLine: number;
  errors: string[];
  resolve: (result: IpBatchResult) => void;
  reject: (error: Error) => void;
}

/** One ip process and the requests written to it (a later process never inherits them). */
interface Batch {
  child: ChildProcessByStdio<Writable, null, Readable>;
  linesWritten: number;
  pending: Request[];
  /** stderr lines since the last "Command failed": the message of the next failed line. */
  said: string[];
  partial: string;
}

const SENTINEL = 'link show dev a/b';
const FAILED_LINE = /^Command failed -:(\d+)$/;

export class IpBatchSession {
  private batch?: Batch;
  private idle?: NodeJS.Timeout;
  private readonly command: string;
  private readonly idleMs: number;

  constructor(options: IpBatchSessionOptions = {}) {
    this.command = options.command ?? 'ip';
    this.idleMs = options.idleMs ?? 5_000;
  }

  /** Requests written to ip that it has not finished yet. */
  get pendingRequests(): number {
    return this.batch?.pending.length ?? 0;
  }

  /** Runs the lines in order; resolves with the errors of the lines that failed (the rest ran). */
  run(lines: readonly string[]): Promise<IpBatchResult> {
    for (const line of lines) {
      if (/[\n\r]/.test(line) || line.trim() === '' || line.trimStart().startsWith('#')) {
        return Promise.reject(
          new NetworkError(`an ip batch line must be one non-empty command, not ${JSON.stringify(line)}`),
        );
      }
    }
    const batch = this.current();
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    hold(batch.child, true);
    return new Promise((resolve, reject) => {
      const request: Request = {
        firstLine: batch.linesWritten + 1,
        sentinelLine: batch.linesWritten + lines.length + 1,
        errors: [],
        resolve,
        reject,
      };
      batch.linesWritten = request.sentinelLine;
      batch.pending.push(request);
      batch.child.stdin.write(`${[...lines, SENTINEL].join('\n')}\n`);
    });
  }

  /** Runs the lines and fails with what ip said when any of them failed. */
  async runChecked(step: string, lines: readonly string[]): Promise<void> {
    const { errors } = await this.run(lines);
    if (errors.length > 0) throw new NetworkError(`${step} failed: ip said: ${errors.join('; ')}`);
  }

  /** Ends the ip process once it has run what it was given. */
  close(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    this.batch?.child.stdin.end();
    this.batch = undefined;
  }

  private current(): Batch {
    const existing = this.batch;
    if (existing && existing.child.exitCode === null && !existing.child.stdin.writableEnded) return existing;
    const child = spawn(this.command, ['-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    const batch: Batch = { child, linesWritten: 0, pending: [], said: [], partial: '' };
    this.batch = batch;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => this.onStderr(batch, chunk));
    child.stdin.on('error', () => undefined);
    const fail = (why: string): void => {
      if (this.batch === batch) this.batch = undefined;
      const said = [...batch.said, batch.partial].filter((line) => line !== '').join('; ');
      for (const request of batch.pending.splice(0)) {
        request.reject(new NetworkError(`${why}${said ? `: ${said}` : ''}`));
      }
    };
    child.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'ENOENT'
          ? `${this.command} is not installed: install iproute2 (scripts/setup.sh does)`
          : `cannot run ${this.command}: ${error.message}`,
      ),
    );
    child.once('close', (code, signal) =>
      fail(`${this.command} -batch exited (${signal ?? `code ${String(code)}`}) before finishing`),
    );
    return batch;
  }

  private onStderr(batch: Batch, chunk: string): void {
    const lines = (batch.partial + chunk).split('\n');
    batch.partial = lines.pop() ?? '';
    for (const line of lines) {
      const failed = FAILED_LINE.exec(line.trim());
      if (!failed) {
        if (line.trim() !== '') batch.said.push(line.trim());
        continue;
      }
      const number = Number(failed[1]);
      const message = batch.said.join(' ');
      batch.said = [];
      const request = batch.pending[0];
      if (!request || number < request.firstLine) continue;
      if (number < request.sentinelLine) {
        request.errors.push(message || `line ${number - request.firstLine + 1} failed`);
        continue;
      }
      batch.pending.shift();
      request.resolve({ errors: request.errors });
      if (batch.pending.length === 0 && this.batch === batch) this.settle(batch);
    }
  }

  private settle(batch: Batch): void {
    hold(batch.child, false);
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      this.idle = undefined;
      if (batch.pending.length === 0) {
        batch.child.stdin.end();
        if (this.batch === batch) this.batch = undefined;
      }
    }, this.idleMs);
    this.idle.unref();
  }
}

/** A busy session keeps the process alive; an idle one never holds it up. */
function hold(child: ChildProcessByStdio<Writable, null, Readable>, busy: boolean): void {
  const handles = [child, child.stdin as unknown as Socket, child.stderr as unknown as Socket];
  for (const handle of handles) {
    if (busy) handle.ref();
    else handle.unref();
  }
}
