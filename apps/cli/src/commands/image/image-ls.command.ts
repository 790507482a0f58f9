// `flotilla image ls`: the node's images as `docker images` shows them.
import { Command } from 'commander';
import { familiarReference, parseReference, type ImageSummary } from '@flotilla/runtime';
import type { CliContext } from '../../cli-context';
import { humanSize } from '../../output/human-size';
import { formatColumns, humanAge, openImageStore, shortDigest } from './image-runtime';

interface LsFlags {
  all?: boolean;
  quiet?: boolean;
  digests?: boolean;
  format?: string;
}

export function createImageLsCommand(context: CliContext): Command {
  return new Command('ls')
    .alias('list')
    .description('list the images on this node')
    .option('-a, --all', "also show build steps' intermediate images")
    .option('-q, --quiet', 'only image IDs')
    .option('--digests', 'show manifest digests')
    .option('--format <format>', '"table" (default) or "json"')
    .action(async (flags: LsFlags) => {
      const images = await openImageStore(context).list({ all: flags.all ?? false });
      if (flags.format === 'json') {
        context.io.write(`${JSON.stringify(images, null, 2)}\n`);
        return;
      }
      if (flags.quiet) {
        context.io.write(
          [...new Set(images.map((image) => shortDigest(image.id)))].map((id) => `${id}\n`).join(''),
        );
        return;
      }
      const now = context.io.now();
      const header = [
        'REPOSITORY',
        'TAG',
        ...(flags.digests ? ['DIGEST'] : []),
        'IMAGE ID',
        'CREATED',
        'SIZE',
      ];
      const rows = images.flatMap((image) => rowsFor(image, flags.digests ?? false, now));
      rows.sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? '') || (a[1] ?? '').localeCompare(b[1] ?? ''));
      context.io.write(formatColumns([header, ...rows]));
    });
}

function rowsFor(image: ImageSummary, digests: boolean, now: Date): string[][] {
  const tail = [shortDigest(image.id), humanAge(image.created, now), humanSize(image.size)];
  const digest = digests ? [image.manifestDigest] : [];
  if (image.names.length === 0) return [['<none>', '<none>', ...digest, ...tail]];
  return image.names.map((name) => {
    const reference = parseReference(name);
    const repository = familiarReference({ registry: reference.registry, repository: reference.repository });
    return [repository, reference.tag ?? '<none>', ...digest, ...tail];
  });
}
