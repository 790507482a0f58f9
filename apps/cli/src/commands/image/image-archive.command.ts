// `flotilla image load` and `image save`: docker-save and OCI archives in, OCI archives (which Docker
// loads too) out.
import { createWriteStream, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { loadImageArchive, saveImageArchive } from '@flotilla/runtime';
import { CliError, EXIT_USAGE, type CliContext } from '../../cli-context';
import { openImageStore } from './image-runtime';

export function createImageLoadCommand(context: CliContext): Command {
  return new Command('load')
    .description('load images from a docker save or OCI archive (optionally gzip-compressed)')
    .option('-i, --input <file>', 'the archive (default: standard input)')
    .option('-q, --quiet', 'print only the loaded names')
    .action(async (flags: { input?: string; quiet?: boolean }) => {
      let archive = flags.input === undefined ? undefined : resolve(context.io.cwd, flags.input);
      let scratch: string | undefined;
      if (archive === undefined) {
        if (process.stdin.isTTY)
          throw new CliError(
            'give the archive with -i FILE or pipe it in (flotilla image load < image.tar)',
            EXIT_USAGE,
          );
        scratch = await fs.mkdtemp(join(tmpdir(), 'flotilla-load-'));
        archive = join(scratch, 'archive.tar');
        await pipeline(process.stdin, createWriteStream(archive));
      }
      try {
        const images = await loadImageArchive(openImageStore(context), archive);
        for (const image of images) {
          const names = image.names.length > 0 ? image.names : [image.id];
          for (const name of names) context.io.write(flags.quiet ? `${name}\n` : `Loaded image: ${name}\n`);
        }
      } finally {
        if (scratch !== undefined) await fs.rm(scratch, { recursive: true, force: true });
      }
    });
}

export function createImageSaveCommand(context: CliContext): Command {
  return new Command('save')
    .description('write images to an OCI archive (docker load and flotilla image load read it)')
    .argument('<images...>', 'image names or IDs')
    .option('-o, --output <file>', 'the archive to write (default: standard output)')
    .action(async (references: string[], flags: { output?: string }) => {
      const store = openImageStore(context);
      if (flags.output === undefined) {
        if (process.stdout.isTTY)
          throw new CliError(
            'refusing to write an archive to a terminal: use -o FILE or redirect the output',
            EXIT_USAGE,
          );
        await saveImageArchive(store, references, process.stdout);
        return;
      }
      const output = resolve(context.io.cwd, flags.output);
      const partial = `${output}.partial`;
      try {
        await saveImageArchive(store, references, createWriteStream(partial));
        await fs.rename(partial, output);
      } catch (error) {
        await fs.rm(partial, { force: true });
        throw error;
      }
    });
}
