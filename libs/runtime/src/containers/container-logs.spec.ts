import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLogLine, readContainerLog, type LogEntry } from './container-logs';

async function collect(source: AsyncIterable<LogEntry>): Promise<string[]> {
  const result: string[] = [];
  for await (const entry of source)
    result.push(`${entry.stream}:${entry.content}${entry.partial ? '…' : ''}`);
  return result;
}

describe('container logs', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-logs-'));
    path = join(dir, 'container.log');
    await writeFile(
      path,
      [
        '2026-11-23T10:00:00.000000001Z stdout F one',
        '2026-11-23T10:00:01.000000000Z stderr F two with  spaces ',
        '2026-11-23T10:00:02.000000000Z stdout P par',
        '2026-11-23T10:00:02.000000001Z stdout F tial',
        '',
      ].join('\n'),
    );
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('parses CRI lines and keeps content byte for byte', () => {
    expect(parseLogLine('2026-11-23T10:00:00.123456789Z stderr F  a b ')).toEqual({
      time: '2026-11-23T10:00:00.123456789Z',
      stream: 'stderr',
      content: ' a b ',
      partial: false,
    });
    expect(parseLogLine('garbage')).toBeUndefined();
  });

  it('reads everything, the tail, and what came since a time', async () => {
    expect(await collect(readContainerLog(path))).toEqual([
      'stdout:one',
      'stderr:two with  spaces ',
      'stdout:par…',
      'stdout:tial',
    ]);
    expect(await collect(readContainerLog(path, { tail: 1 }))).toEqual(['stdout:tial']);
    expect(await collect(readContainerLog(path, { tail: 0 }))).toEqual([]);
    expect(await collect(readContainerLog(path, { since: new Date('2026-11-23T10:00:01Z') }))).toEqual([
      'stderr:two with  spaces ',
      'stdout:par…',
      'stdout:tial',
    ]);
  });

  it('follows the file while the container runs and ends when it stops', async () => {
    let running = true;
    const seen: string[] = [];
    // The line must come after the reader took its tail, or tail 0 would rightly skip it.
    let following: () => void = () => undefined;
    const followed = new Promise<void>((resolve) => (following = resolve));
    const reading = (async () => {
      for await (const entry of readContainerLog(path, {
        tail: 0,
        follow: true,
        isRunning: async () => {
          following();
          return running;
        },
      })) {
        seen.push(entry.content);
        if (entry.content === 'three') running = false;
      }
    })();
    await followed;
    await appendFile(path, '2026-11-23T10:00:03.000000000Z stdout F three\n');
    await reading;
    expect(seen).toEqual(['three']);
  });

  it('yields nothing for a container that never wrote a log', async () => {
    expect(await collect(readContainerLog(join(dir, 'missing.log')))).toEqual([]);
  });
});
