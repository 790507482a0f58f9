// Unpacked layers, one directory per chain ID (layers/<hex>/diff), made once and shared read-only by every
// container and image that stacks them. Extraction happens in a private temporary directory that is
// renamed into place only after every check passed, so a failed or concurrent unpack never leaves a
// half-written layer where overlay would use it.
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { digestHex } from './chain-id';
import { extractLayer, type ExtractLayerOptions } from './layer-extractor';
import type { DecompressionLimits } from './layer-stream';

export interface LayerRecord {
  readonly chainId: string;
  readonly diffId: string;
  /** Chain ID of the layer below, absent for a base layer. */
  readonly parent?: string;
  /** Uncompressed tar size. */
  readonly size: number;
}

export interface EnsureLayerOptions {
  readonly chainId: string;
  readonly diffId: string;
  readonly parent?: string;
  /** The blob digest the stream must hash to (absent for layers we made ourselves). */
  readonly blobDigest?: string;
  readonly open: () => AsyncIterable<Uint8Array>;
  readonly allowDevices?: boolean;
  readonly limits?: DecompressionLimits;
}

const RECORD_FILE = 'layer.json';
const TMP_PREFIX = '.tmp-';

export class LayerStore {
  constructor(readonly root: string) {}

  directory(chainId: string): string {
    return join(this.root, digestHex(chainId));
  }

  /** The directory overlay uses as a lower layer. */
  diffDirectory(chainId: string): string {
    return join(this.directory(chainId), 'diff');
  }

  /**
   * A short path for the layer's diff dir (<state>/l/<12 hex>), for images with so many layers that
   * the full paths overflow the kernel's one-page limit on mount options (as Docker's overlay2 does).
   */
  async shortLink(chainId: string): Promise<string> {
    const link = join(dirname(this.root), 'l', digestHex(chainId).slice(0, 12));
    const target = this.diffDirectory(chainId);
    await fs.mkdir(dirname(link), { recursive: true });
    try {
      await fs.symlink(target, link);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Twelve hex digits almost never collide; when they do, the full path is the safe answer.
      if ((await fs.readlink(link)) !== target) return target;
    }
    return link;
  }

  async get(chainId: string): Promise<LayerRecord | undefined> {
    return this.getSync(chainId);
  }

  /** Synchronous: read on every container start, once per layer; a tiny file. */
  getSync(chainId: string): LayerRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.directory(chainId), RECORD_FILE), 'utf8')) as LayerRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async ensure(options: EnsureLayerOptions): Promise<LayerRecord> {
    const existing = await this.get(options.chainId);
    if (existing !== undefined) return existing;
    await fs.mkdir(this.root, { recursive: true });
    const tmp = join(
      this.root,
      `${TMP_PREFIX}${digestHex(options.chainId).slice(0, 12)}-${randomBytes(6).toString('hex')}`,
    );
    await fs.mkdir(join(tmp, 'diff'), { recursive: true, mode: 0o700 });
    try {
      const extractOptions: ExtractLayerOptions = {
        root: join(tmp, 'diff'),
        expectedDiffId: options.diffId,
        ...(options.blobDigest === undefined ? {} : { expectedDigest: options.blobDigest }),
        ...(options.allowDevices === undefined ? {} : { allowDevices: options.allowDevices }),
        ...(options.limits === undefined ? {} : { limits: options.limits }),
      };
      const result = await extractLayer(options.open(), extractOptions);
      const record: LayerRecord = {
        chainId: options.chainId,
        diffId: options.diffId,
        ...(options.parent === undefined ? {} : { parent: options.parent }),
        size: result.size,
      };
      await fs.writeFile(join(tmp, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
      await fs.chmod(tmp, 0o755);
      try {
        await fs.rename(tmp, this.directory(options.chainId));
      } catch (error) {
        // Another process unpacked the same layer first; its copy is as good as ours.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
      return (await this.get(options.chainId)) ?? record;
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  async list(): Promise<string[]> {
    try {
      return (await fs.readdir(this.root))
        .filter((name) => /^[a-f0-9]{64}$/.test(name))
        .map((name) => `sha256:${name}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async remove(chainId: string): Promise<void> {
    // Renamed away first so a concurrent reader never sees a half-deleted layer as valid.
    const link = join(dirname(this.root), 'l', digestHex(chainId).slice(0, 12));
    if ((await fs.readlink(link).catch(() => undefined)) === this.diffDirectory(chainId))
      await fs.rm(link, { force: true });
    const doomed = join(this.root, `${TMP_PREFIX}rm-${randomBytes(6).toString('hex')}`);
    try {
      await fs.rename(this.directory(chainId), doomed);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    await fs.rm(doomed, { recursive: true, force: true });
  }

  /** Leftovers of crashed extractions older than `olderThanMs`. */
  async removeStaleTemporaries(olderThanMs: number): Promise<number> {
    let removed = 0;
    let names: string[];
    try {
      names = await fs.readdir(this.root);
    } catch {
      return 0;
    }
    for (const name of names.filter((entry) => entry.startsWith(TMP_PREFIX))) {
      const path = join(this.root, name);
      const stat = await fs.lstat(path).catch(() => undefined);
      if (stat !== undefined && Date.now() - stat.mtimeMs > olderThanMs) {
        await fs.rm(path, { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }
}
