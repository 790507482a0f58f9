// What the image commands share: the node's image store (daemonless, straight to the state dir), and
// Docker's ways of printing sizes, ages, IDs and tables.
import { ImageStore, type RegistryProgress } from '@flotilla/runtime';
import type { CliContext } from '../../cli-context';
import { humanSize } from '../../output/human-size';

export function openImageStore(context: CliContext): ImageStore {
  const stateDir = context.io.env['FLOTILLA_STATE_DIR'];
  return new ImageStore(stateDir !== undefined && stateDir !== '' ? { stateDir } : {});
}

/** "3 seconds ago", "2 weeks ago", "N/A" for images without a creation time. */
export function humanAge(created: string | undefined, now: Date): string {
  if (created === undefined) return 'N/A';
  const time = Date.parse(created);
  if (Number.isNaN(time)) return 'N/A';
  const seconds = Math.max(0, Math.floor((now.getTime() - time) / 1000));
  const steps: Array<[number, string]> = [
    [60 * 60 * 24 * 365, 'year'],
    [60 * 60 * 24 * 30, 'month'],
    [60 * 60 * 24 * 7, 'week'],
    [60 * 60 * 24, 'day'],
    [60 * 60, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  for (const [size, unit] of steps) {
    if (seconds >= size) {
      const count = Math.floor(seconds / size);
      return `${count} ${unit}${count === 1 ? '' : 's'} ago`;
    }
  }
  return 'Less than a second ago';
}

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Columns padded to their widest cell, three spaces apart, as docker prints them. */
export function formatColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd((widths[index] ?? 0) + 3)))
          .join('')
          .trimEnd()}\n`,
    )
    .join('');
}

/**
 * Docker-like transfer progress: one line per blob state change, and a percentage every quarter of a
 * large blob, so output stays readable in logs and CI.
 */
export function progressPrinter(
  context: CliContext,
  verbs: { active: string; done: string },
): (event: RegistryProgress) => void {
  const quarters = new Map<string, number>();
  return (event) => {
    switch (event.kind) {
      case 'blob-start':
        context.io.write(`${shortDigest(event.digest)}: ${verbs.active} ${humanSize(event.size)}\n`);
        return;
      case 'blob-progress': {
        if (event.size < 4 * 1024 * 1024) return;
        const quarter = Math.floor((event.bytes / event.size) * 4);
        if (quarter > (quarters.get(event.digest) ?? 0) && quarter < 4) {
          quarters.set(event.digest, quarter);
          context.io.write(
            `${shortDigest(event.digest)}: ${verbs.active} ${humanSize(event.bytes)}/${humanSize(event.size)}\n`,
          );
        }
        return;
      }
      case 'blob-done':
        context.io.write(`${shortDigest(event.digest)}: ${event.skipped ? 'Already exists' : verbs.done}\n`);
        return;
      case 'blob-retry':
        context.io.write(
          `${shortDigest(event.digest)}: Retrying (attempt ${event.attempt}): ${event.reason}\n`,
        );
        return;
      case 'resolved':
        context.io.write(`${event.reference}: resolved to ${event.digest}\n`);
        return;
      case 'manifest':
        context.io.write(`${event.reference}: digest: ${event.digest}\n`);
        return;
    }
  };
}
