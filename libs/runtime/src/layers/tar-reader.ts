// A streaming tar reader: entries come out one at a time with their content as an async iterable, so a
// multi-gigabyte layer is never held in memory. Metadata records (PAX, GNU long names) are capped in size
// because they are buffered.
import { LayerError } from './layer.error';
import {
  BLOCK_SIZE,
  decodeHeader,
  entryTypeOf,
  isZeroBlock,
  paddingFor,
  parsePaxRecords,
  type RawHeader,
  type TarEntry,
} from './tar-header';

export interface TarMember {
  readonly entry: TarEntry;
  /** The member's content; must be consumed (or abandoned) before asking for the next member. */
  readonly body: AsyncIterable<Buffer>;
  /** Byte offset of the content in the tar stream, for random access into an uncompressed archive file. */
  readonly offset: number;
}

export interface TarReadLimits {
  /** Largest PAX or GNU long-name record we buffer. */
  readonly maxMetadataBytes?: number;
}

const DEFAULT_MAX_METADATA = 1024 * 1024;
const CHUNK = 64 * 1024;

/** Pulls exact byte counts out of a chunked source. */
export class ByteSource {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Bytes handed out so far. */
  consumed = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Up to `max` bytes (at least one unless the source ended). */
  async readSome(max: number): Promise<Buffer> {
    if (this.pending.length === 0 && !(await this.fill())) return Buffer.alloc(0);
    const taken = this.pending.subarray(0, max);
    this.pending = this.pending.subarray(taken.length);
    this.consumed += taken.length;
    return taken;
  }

  /** Exactly `count` bytes, or fewer only when the source ended first. */
  async readExact(count: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < count) {
      const part = await this.readSome(count - have);
      if (part.length === 0) break;
      parts.push(part);
      have += part.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  async skip(count: number): Promise<number> {
    let skipped = 0;
    while (skipped < count) {
      const part = await this.readSome(Math.min(CHUNK, count - skipped));
      if (part.length === 0) break;
      skipped += part.length;
    }
    return skipped;
  }

  /** Reads to the end of the source (so digests over the whole stream are complete). */
  async drain(): Promise<void> {
    while ((await this.readSome(CHUNK)).length > 0) {
      // discard
    }
  }

  private async fill(): Promise<boolean> {
    while (!this.ended) {
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        return false;
      }
      if (next.value.length > 0) {
        this.pending = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        return true;
      }
    }
    return false;
  }
}

/**
 * Yields the members of a tar stream. After the end-of-archive marker the rest of the source is drained,
 * so a caller hashing the stream sees every byte.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array>,
  limits: TarReadLimits = {},
): AsyncGenerator<TarMember> {
  const bytes = new ByteSource(source);
  const maxMetadata = limits.maxMetadataBytes ?? DEFAULT_MAX_METADATA;
  let globalPax = new Map<string, Buffer>();
  let localPax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  let memberIndex = 0;

  for (;;) {
    const block = await bytes.readExact(BLOCK_SIZE);
    if (block.length === 0) {
      throw new LayerError(
        'malformed-tar',
        'tar stream ended without an end-of-archive marker: the archive is truncated',
      );
    }
    if (block.length < BLOCK_SIZE)
      throw new LayerError('malformed-tar', 'tar stream ends inside a header: the archive is truncated');
    if (isZeroBlock(block)) {
      await bytes.drain();
      return;
    }
    const raw = decodeHeader(block);
    memberIndex++;
    switch (raw.typeFlag) {
      case 'x':
      case 'g': {
        const records = parsePaxRecords(await readMetadata(bytes, raw, maxMetadata));
        if (raw.typeFlag === 'g') globalPax = new Map([...globalPax, ...records]);
        else localPax = records;
        continue;
      }
      case 'L':
        longName = trimNul((await readMetadata(bytes, raw, maxMetadata)).toString('utf8'));
        continue;
      case 'K':
        longLink = trimNul((await readMetadata(bytes, raw, maxMetadata)).toString('utf8'));
        continue;
    }
    const type = entryTypeOf(raw.typeFlag);
    if (type === undefined) {
      throw new LayerError(
        'unsupported-entry',
        `tar member ${memberIndex} (${JSON.stringify(raw.name)}) has type ${JSON.stringify(raw.typeFlag)}, which layers may not contain (GNU sparse files and volume labels are not supported; re-create the archive without them)`,
      );
    }
    const entry = applyExtensions(raw, type, new Map([...globalPax, ...localPax]), longName, longLink);
    localPax = new Map();
    longName = undefined;
    longLink = undefined;

    // Only regular files carry content: like Go's archive/tar (which writes most layers), a size declared
    // on a link, directory, device or fifo is ignored and no data is read for it.
    const contentSize = type === 'file' ? entry.size : 0;
    let remaining = contentSize;
    const body: AsyncIterable<Buffer> = {
      async *[Symbol.asyncIterator]() {
        while (remaining > 0) {
          const part = await bytes.readSome(Math.min(CHUNK, remaining));
          if (part.length === 0) {
            throw new LayerError(
              'malformed-tar',
              `tar stream ends inside ${JSON.stringify(entry.name)}: the archive is truncated`,
            );
          }
          remaining -= part.length;
          yield part;
        }
      },
    };
    yield { entry: type === 'file' ? entry : { ...entry, size: 0 }, body, offset: bytes.consumed };
    // Whatever the consumer left unread is skipped, then the padding to the next block.
    if (remaining > 0 && (await bytes.skip(remaining)) < remaining) {
      throw new LayerError(
        'malformed-tar',
        `tar stream ends inside ${JSON.stringify(entry.name)}: the archive is truncated`,
      );
    }
    remaining = 0;
    const padding = paddingFor(contentSize);
    if (padding > 0 && (await bytes.skip(padding)) < padding) {
      throw new LayerError(
        'malformed-tar',
        'tar stream ends inside member padding: the archive is truncated',
      );
    }
  }
}

async function readMetadata(bytes: ByteSource, raw: RawHeader, maxMetadata: number): Promise<Buffer> {
  if (raw.size > maxMetadata) {
    throw new LayerError(
      'malformed-tar',
      `tar metadata record of ${raw.size} bytes exceeds the ${maxMetadata}-byte limit: the archive is hostile or corrupt`,
    );
  }
  const data = await bytes.readExact(raw.size);
  if (data.length < raw.size)
    throw new LayerError(
      'malformed-tar',
      'tar stream ends inside a metadata record: the archive is truncated',
    );
  const padding = paddingFor(raw.size);
  if ((await bytes.skip(padding)) < padding)
    throw new LayerError('malformed-tar', 'tar stream ends inside a metadata record');
  return data;
}

function applyExtensions(
  raw: RawHeader,
  type: TarEntry['type'],
  pax: Map<string, Buffer>,
  longName: string | undefined,
  longLink: string | undefined,
): TarEntry {
  const text = (key: string): string | undefined => pax.get(key)?.toString('utf8');
  const number = (key: string, fallback: number): number => {
    const value = text(key);
    if (value === undefined) return fallback;
    if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) {
      throw new LayerError(
        'malformed-tar',
        `PAX ${key} is not a non-negative number: ${JSON.stringify(value)}`,
      );
    }
    const parsed = Number(value);
    if (!Number.isSafeInteger(Math.floor(parsed)))
      throw new LayerError('malformed-tar', `PAX ${key} is too large`);
    return parsed;
  };
  const xattrs = new Map<string, Buffer>();
  for (const [key, value] of pax) {
    if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), value);
  }
  const name = text('path') ?? longName ?? raw.name;
  if (name.includes('\0'))
    throw new LayerError('malformed-tar', `tar member name contains a NUL byte: ${JSON.stringify(name)}`);
  return {
    name,
    type,
    mode: raw.mode & 0o7777,
    uid: Math.floor(number('uid', raw.uid)),
    gid: Math.floor(number('gid', raw.gid)),
    size: Math.floor(number('size', raw.size)),
    mtime: number('mtime', raw.mtime),
    linkName: text('linkpath') ?? longLink ?? raw.linkName,
    uname: text('uname') ?? raw.uname,
    gname: text('gname') ?? raw.gname,
    devMajor: raw.devMajor,
    devMinor: raw.devMinor,
    xattrs,
  };
}

function trimNul(text: string): string {
  const end = text.indexOf('\0');
  return end === -1 ? text : text.slice(0, end);
}
