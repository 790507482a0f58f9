// Writes tar streams (layers from a container's upper dir, OCI archives, test fixtures) as an async
// iterable of buffers, so callers can pipe them to a file, a hash or an HTTP upload with back-pressure.
import { BLOCK_SIZE, encodeHeader, paddingFor, type EntryToWrite } from './tar-header';
import { LayerError } from './layer.error';

export interface MemberToWrite {
  readonly entry: EntryToWrite;
  /** Content of a regular file; its total length must equal entry.size. */
  readonly body?: Buffer | AsyncIterable<Uint8Array>;
}

export async function* writeTar(
  members: AsyncIterable<MemberToWrite> | Iterable<MemberToWrite>,
): AsyncGenerator<Buffer> {
  for await (const member of members) {
    const size = member.entry.type === 'file' ? (member.entry.size ?? bufferLength(member.body)) : 0;
    yield encodeHeader({ ...member.entry, size });
    if (member.entry.type !== 'file' || member.body === undefined) {
      if (size !== 0)
        throw new LayerError(
          'malformed-tar',
          `no content given for ${member.entry.name} (${size} bytes declared)`,
        );
      continue;
    }
    let written = 0;
    const chunks = Buffer.isBuffer(member.body) ? [member.body] : member.body;
    for await (const chunk of chunks) {
      written += chunk.length;
      if (written > size) break;
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    if (written !== size) {
      // A file that changed size while we read it would corrupt every member after it.
      throw new LayerError(
        'malformed-tar',
        `${member.entry.name} changed size while it was archived (${size} bytes declared, ${written} read)`,
      );
    }
    const padding = paddingFor(size);
    if (padding > 0) yield Buffer.alloc(padding);
  }
  yield Buffer.alloc(2 * BLOCK_SIZE);
}

function bufferLength(body: MemberToWrite['body']): number {
  if (body === undefined) return 0;
  if (Buffer.isBuffer(body)) return body.length;
  throw new LayerError('malformed-tar', 'a streamed tar member needs an explicit size');
}

/** Collects a small tar into memory (tests, configs); never use it for layers. */
export async function tarToBuffer(
  members: Iterable<MemberToWrite> | AsyncIterable<MemberToWrite>,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of writeTar(members)) parts.push(part);
  return Buffer.concat(parts);
}
