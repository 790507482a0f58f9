// Reading a container's log: the shim writes CRI lines (`TIME STREAM P|F CONTENT`), which stay
// readable after the container exits. Follow mode keeps reading as the file grows until the
// container stops.
import { watch } from 'node:fs';
import { open } from 'node:fs/promises';
import { errnoCode } from '../shim/errno';

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  /** RFC 3339 with nanoseconds, UTC. */
  time: string;
  stream: LogStream;
  /** The line without its newline. */
  content: string;
  /** The line continues in the next entry (the shim splits lines longer than 16 KiB). */
  partial: boolean;
}

export interface LogReadOptions {
  /** Only the last N entries that exist when reading starts. */
  tail?: number;
  /** Only entries at or after this time. */
  since?: Date;
  follow?: boolean;
  /** Follow mode ends once this says false and the file has no more to give. */
  isRunning?: () => Promise<boolean>;
  signal?: AbortSignal;
}

const LINE = /^(\S+) (stdout|stderr) ([PF]) (.*)$/s;
const FOLLOW_POLL_MS = 250;

export function parseLogLine(line: string): LogEntry | undefined {
  const match = LINE.exec(line);
  if (!match) return undefined;
  const [, time = '', stream, tag, content = ''] = match;
  return { time, stream: stream as LogStream, content, partial: tag === 'P' };
}

function parseChunk(text: string): { entries: LogEntry[]; rest: string } {
  const lines = text.split('\n');
  const rest = lines.pop() ?? '';
  const entries: LogEntry[] = [];
  for (const line of lines) {
    const entry = parseLogLine(line);
    if (entry) entries.push(entry);
  }
  return { entries, rest };
}

function accepts(entry: LogEntry, since: Date | undefined): boolean {
  return since === undefined || Date.parse(entry.time) >= since.getTime();
}

/** Waits for the file to change or a poll interval to pass, whichever is first. */
function changeOrTimeout(path: string, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    let watcher: ReturnType<typeof watch> | undefined;
    const done = (): void => {
      clearTimeout(timer);
      watcher?.close();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, FOLLOW_POLL_MS);
    try {
      watcher = watch(path, done);
    } catch {
      // The file may not exist yet; the timer still ends the wait.
    }
    signal?.addEventListener('abort', done);
  });
}

export async function* readContainerLog(
  path: string,
  options: LogReadOptions = {},
): AsyncGenerator<LogEntry> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (!handle) return;
  try {
    let offset = 0;
    let pending = '';
    const readMore = async (): Promise<LogEntry[]> => {
      const { size } = await handle.stat();
      if (size <= offset) return [];
      const buffer = Buffer.alloc(size - offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      offset += bytesRead;
      const parsed = parseChunk(pending + buffer.subarray(0, bytesRead).toString('utf8'));
      pending = parsed.rest;
      return parsed.entries.filter((entry) => accepts(entry, options.since));
    };

    let first = await readMore();
    if (options.tail !== undefined) first = options.tail <= 0 ? [] : first.slice(-options.tail);
    yield* first;
    if (!options.follow) return;
    for (;;) {
      if (options.signal?.aborted) return;
      const running = options.isRunning ? await options.isRunning() : false;
      const more = await readMore();
      yield* more;
      if (!running && more.length === 0) return;
      if (more.length === 0) await changeOrTimeout(path, options.signal);
    }
  } finally {
    await handle.close();
  }
}
