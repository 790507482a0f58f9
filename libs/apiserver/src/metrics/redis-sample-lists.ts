// Usage samples in Redis through ioredis: one list per node and per pod, LPUSH + LTRIM keeps the
// newest two (the window a CPU rate needs), PEXPIRE drops a list whose node stopped reporting. A
// report is one MULTI, so a reader never sees a list trimmed but not yet expired anew.
import Redis from 'ioredis';
import type { SampleListEntry, SampleLists, SamplePushOptions } from './sample-lists';

export interface RedisSampleListsOptions {
  url: string;
  /** Prefixes every key, so clusters (or test runs) sharing one Redis never read each other's samples. */
  keyPrefix: string;
}

export class RedisSampleLists implements SampleLists {
  private readonly redis: Redis;

  constructor(options: RedisSampleListsOptions) {
    this.redis = new Redis(options.url, {
      keyPrefix: options.keyPrefix,
      // A report fails fast rather than waiting out a long outage: the next one supersedes it.
      maxRetriesPerRequest: 1,
      // disconnect() arms this timer for a socket that may already be gone; 2 s would hold the process.
      disconnectTimeout: 100,
    });
    // Connection errors surface on the commands that fail; without a listener ioredis would print them.
    this.redis.on('error', () => undefined);
  }

  /** Fails with a clear message when Redis cannot be reached, so a wrong --redis-url stops start-up. */
  async ping(url: string): Promise<void> {
    await this.redis.ping().catch((error: unknown) => {
      throw new Error(
        `cannot reach Redis at ${url} for metrics (${error instanceof Error ? error.message : String(error)}): start it or fix --redis-url`,
      );
    });
  }

  async push(entries: readonly SampleListEntry[], options: SamplePushOptions): Promise<void> {
    if (entries.length === 0) return;
    const transaction = this.redis.multi();
    for (const { key, value } of entries) {
      transaction
        .lpush(key, value)
        .ltrim(key, 0, options.keep - 1)
        .pexpire(key, options.ttlMs);
    }
    const results = await transaction.exec();
    const failed = results?.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }

  async read(keys: readonly string[]): Promise<string[][]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.lrange(key, 0, -1);
    const results = (await pipeline.exec()) ?? [];
    return keys.map((_key, index) => {
      const [error, values] = results[index] ?? [null, []];
      if (error) throw error;
      return Array.isArray(values) ? values.map(String) : [];
    });
  }

  async remove(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(...keys);
  }

  async close(): Promise<void> {
    // QUIT on a client still (re)connecting would leave its reconnect timer behind: cut it instead.
    if (this.redis.status !== 'ready') {
      this.redis.disconnect();
      return;
    }
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
