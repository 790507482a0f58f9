// Turns a layer blob (gzip or plain tar) into its uncompressed tar stream while hashing both sides and
// enforcing the decompression caps. The digests are only final once the stream has been read to its end.
import { createHash, type Hash } from 'node:crypto';
import { pipeline, Readable, type Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { LayerError } from './layer.error';

export interface DecompressionLimits {
  /** Refuse a layer whose uncompressed tar exceeds this many bytes. */
  readonly maxUncompressedBytes?: number;
  /** Refuse when uncompressed/compressed exceeds this ratio (checked past ratioGraceBytes). */
  readonly maxRatio?: number;
  /** Small layers may compress extremely well (an empty file system); the ratio is only checked above this. */
  readonly ratioGraceBytes?: number;
}

export const DEFAULT_LIMITS: Required<DecompressionLimits> = {
  maxUncompressedBytes: 16 * 1024 ** 3,
  // gzip cannot exceed ~1032:1; real layers, even with large zero-filled files, stay far below 512:1.
  maxRatio: 512,
  ratioGraceBytes: 64 * 1024 ** 2,
};

export type Compression = 'gzip' | 'zstd' | 'none';

/** zlib's zstd decoder arrived in Node.js 22.15; on older versions zstd layers are refused clearly. */
const zstdDecompressor = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;

export interface LayerStream {
  /** The uncompressed tar bytes. */
  readonly tar: AsyncIterable<Buffer>;
  /** Valid once `tar` has been read to its end. */
  result(): {
    compression: Compression;
    digest: string;
    diffId: string;
    compressedSize: number;
    size: number;
  };
}

export function openLayerStream(
  source: AsyncIterable<Uint8Array>,
  limits: DecompressionLimits = {},
): LayerStream {
  const caps = { ...DEFAULT_LIMITS, ...limits };
  const blobHash = createHash('sha256');
  const tarHash = createHash('sha256');
  let compressedSize = 0;
  let size = 0;
  let compression: Compression = 'none';
  let finished = false;

  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      compressedSize += buffer.length;
      yield buffer;
    }
  }

  async function* uncompressed(): AsyncGenerator<Buffer> {
    const input = counted();
    const first = await input.next();
    if (first.done) throw new LayerError('malformed-tar', 'the layer blob is empty');
    const head = first.value;
    compression = detectCompression(head);
    if (compression === 'none') {
      // An uncompressed blob is its own tar stream: the diffID hash serves as its digest too.
      yield head;
      yield* input;
      return;
    }
    blobHash.update(head);
    const gunzip: Transform =
      compression === 'zstd' && zstdDecompressor !== undefined ? zstdDecompressor() : zlib.createGunzip();
    const compressed = Readable.from(
      (async function* () {
        yield head;
        for await (const chunk of input) {
          blobHash.update(chunk);
          yield chunk;
        }
      })(),
    );
    // pipeline destroys the decoder with the source's error, which the loop below then throws.
    pipeline(compressed, gunzip, () => undefined);
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (error) {
      if (error instanceof LayerError) throw error;
      throw new LayerError(
        'malformed-tar',
        `the layer's ${compression} stream is corrupt: ${(error as Error).message}`,
      );
    } finally {
      compressed.destroy();
    }
  }

  async function* checked(): AsyncGenerator<Buffer> {
    for await (const chunk of uncompressed()) {
      size += chunk.length;
      tarHash.update(chunk);
      if (size > caps.maxUncompressedBytes) {
        throw new LayerError(
          'size-limit',
          `the layer decompresses to more than ${caps.maxUncompressedBytes} bytes (the limit); it is a decompression bomb or needs a higher maxUncompressedBytes`,
        );
      }
      if (compression !== 'none' && size > caps.ratioGraceBytes && size > caps.maxRatio * compressedSize) {
        throw new LayerError(
          'ratio-limit',
          `the layer decompresses at more than ${caps.maxRatio}:1 (${size} bytes from ${compressedSize}); refusing it as a decompression bomb`,
        );
      }
      yield chunk;
    }
    finished = true;
  }

  return {
    tar: checked(),
    result() {
      if (!finished) throw new Error('layer stream digests were read before the stream ended');
      return {
        compression,
        digest: `sha256:${digestHex(compression === 'none' ? tarHash : blobHash)}`,
        diffId: `sha256:${digestHex(tarHash)}`,
        compressedSize,
        size,
      };
    },
  };
}

function digestHex(hash: Hash): string {
  return hash.copy().digest('hex');
}

export function detectCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    if (zstdDecompressor !== undefined) return 'zstd';
    throw new LayerError(
      'unsupported-compression',
      `the layer is zstd-compressed, and Node.js ${process.version} has no zstd decoder (22.15 and later do); use a newer Node.js or re-push the image with gzip layers (docker buildx --output compression=gzip)`,
    );
  }
  return 'none';
}
