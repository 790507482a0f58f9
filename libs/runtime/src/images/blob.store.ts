// Content-addressed blobs (blobs/sha256/<hex>) of an OCI image layout. A blob is written to a temporary
// file on the same file system, hashed while it streams, and renamed into place only when its digest
// (and size, when known) match: a reader never sees a partial or wrong blob.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs, readFileSync, type ReadStream } from 'node:fs';
import { join } from 'node:path';
import { assertDigest, digestHex } from '../layers/chain-id';

export class BlobError extends Error {
  override readonly name = 'BlobError';
}

export interface PutBlobOptions {
  readonly expectedDigest?: string;
  readonly expectedSize?: number;
  /** Called with the running byte count, for progress output. */
  readonly onProgress?: (bytes: number) => void;
}

export interface StoredBlob {
  readonly digest: string;
  readonly size: number;
}

export class BlobStore {
  constructor(
    /** The image layout root; blobs live in <root>/blobs/sha256. */
    readonly root: string,
    private readonly tmpDir: string,
  ) {}

  path(digest: string): string {
    return join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  async has(digest: string): Promise<boolean> {
    try {
      await fs.access(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }

  async size(digest: string): Promise<number> {
    return (await fs.stat(this.path(digest))).size;
  }

  open(digest: string): ReadStream {
    return createReadStream(this.path(digest));
  }

  async read(digest: string): Promise<Buffer> {
    try {
      // Synchronous: manifests and configs are small and read on every container start.
      return readFileSync(this.path(digest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new BlobError(
          `blob ${digest} is missing from ${this.root}; the image is incomplete: pull or load it again`,
        );
      }
      throw error;
    }
  }

  async put(source: AsyncIterable<Uint8Array> | Buffer, options: PutBlobOptions = {}): Promise<StoredBlob> {
    if (options.expectedDigest !== undefined) {
      assertDigest(options.expectedDigest, 'expected digest');
      if (await this.has(options.expectedDigest)) {
        // Already stored: drain nothing, trust the content address (it was verified when written).
        if (!Buffer.isBuffer(source) && 'destroy' in source && typeof source.destroy === 'function')
          source.destroy();
        return { digest: options.expectedDigest, size: await this.size(options.expectedDigest) };
      }
    }
    await fs.mkdir(join(this.root, 'blobs', 'sha256'), { recursive: true });
    await fs.mkdir(this.tmpDir, { recursive: true });
    const tmp = join(this.tmpDir, `blob-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const handle = await fs.open(tmp, 'wx', 0o644);
    try {
      for await (const chunk of Buffer.isBuffer(source) ? [source] : source) {
        hash.update(chunk);
        size += chunk.length;
        if (options.expectedSize !== undefined && size > options.expectedSize) {
          throw new BlobError(
            `blob ${options.expectedDigest ?? ''} is larger than the ${options.expectedSize} bytes its descriptor declares; refusing it`,
          );
        }
        let offset = 0;
        while (offset < chunk.length)
          offset += (await handle.write(chunk, offset, chunk.length - offset)).bytesWritten;
        options.onProgress?.(size);
      }
      await handle.sync();
    } catch (error) {
      await handle.close();
      await fs.rm(tmp, { force: true });
      throw error;
    }
    await handle.close();
    const digest = `sha256:${hash.digest('hex')}`;
    try {
      if (options.expectedSize !== undefined && size !== options.expectedSize) {
        throw new BlobError(
          `blob ${digest} is ${size} bytes, but its descriptor declares ${options.expectedSize}; the source is truncated or corrupt`,
        );
      }
      if (options.expectedDigest !== undefined && digest !== options.expectedDigest) {
        throw new BlobError(
          `blob content hashes to ${digest}, expected ${options.expectedDigest}: the source is corrupt or was tampered with`,
        );
      }
      await fs.rename(tmp, this.path(digest));
    } finally {
      await fs.rm(tmp, { force: true });
    }
    return { digest, size };
  }

  async list(): Promise<string[]> {
    try {
      const names = await fs.readdir(join(this.root, 'blobs', 'sha256'));
      return names.filter((name) => /^[a-f0-9]{64}$/.test(name)).map((name) => `sha256:${name}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async remove(digest: string): Promise<void> {
    await fs.rm(this.path(digest), { force: true });
  }
}
