// Kubernetes' work queue semantics on BullMQ, so controllers and schedulers can run as several
// replicas sharing one queue in Redis:
// - one job per key: a burst of adds for "web/web" while it waits collapses into one reconcile;
// - a key added while it is being reconciled is reconciled again afterwards (its job was taken off
//   the deduplication set when processing began);
// - never two reconciles of one key at once, across every worker of every process (a per-key lock);
// - failures retry with exponential back-off (backoff.util.ts);
// - a periodic resync re-adds every key, so a job Redis lost costs a delay, never correctness.
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { DEFAULT_BACKOFF, retryDelayMs, type BackoffPolicy } from './backoff.util';

export type Reconciler = (key: string) => Promise<void>;

export interface KeyedWorkQueueOptions {
  /** The queue's name; every replica of one controller uses the same name. */
  readonly name: string;
  readonly redisUrl: string;
  /** Reconciles this process runs at once (different keys). */
  readonly concurrency?: number;
  readonly backoff?: BackoffPolicy;
  /** How long a key stays locked if its worker dies mid-reconcile. */
  readonly lockTtlMs?: number;
  /** Re-adds every key this lists, periodically. */
  readonly resync?: { readonly intervalMs: number; readonly keys: () => Promise<readonly string[]> };
  /** Told about reconcile failures (they are retried regardless). */
  readonly onError?: (key: string, error: unknown) => void;
}

interface KeyJob {
  readonly key: string;
}

const JOB_NAME = 'reconcile';
// Deleting the lock only if it is still ours: a lock that expired and was taken by another worker stays.
const RELEASE_LOCK = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export class KeyedWorkQueue {
  private readonly queue: Queue<KeyJob>;
  private readonly redis: Redis;
  private worker: Worker<KeyJob> | undefined;
  private workerRedis: Redis | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: KeyedWorkQueueOptions) {
    this.redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.queue = new Queue<KeyJob>(options.name, { connection: this.redis });
  }

  /** Enqueues a key; a no-op if the key already waits. */
  async add(key: string, options: { readonly delayMs?: number } = {}): Promise<void> {
    await this.queue.add(
      JOB_NAME,
      { key },
      {
        deduplication: { id: key },
        delay: options.delayMs,
        attempts: Number.MAX_SAFE_INTEGER,
        backoff: { type: 'reconcile' },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /** Starts reconciling keys with this process's workers. */
  process(reconciler: Reconciler): void {
    if (this.worker) throw new Error(`queue ${this.options.name} is already being processed`);
    const backoff = this.options.backoff ?? DEFAULT_BACKOFF;
    // A worker blocks on its connection while it waits for jobs, so it gets one of its own.
    this.workerRedis = this.redis.duplicate();
    this.worker = new Worker<KeyJob>(this.options.name, (job) => this.runOne(job, reconciler), {
      connection: this.workerRedis,
      concurrency: this.options.concurrency ?? 1,
      settings: { backoffStrategy: (attemptsMade: number) => retryDelayMs(attemptsMade, backoff) },
    });
    this.worker.on('failed', (job, error) => {
      if (job) this.options.onError?.(job.data.key, error);
    });
    const resync = this.options.resync;
    if (resync) {
      this.resyncTimer = setInterval(() => {
        resync
          .keys()
          .then((keys) => Promise.all(keys.map((key) => this.add(key))))
          .catch((error: unknown) => this.options.onError?.('(resync)', error));
      }, resync.intervalMs);
      this.resyncTimer.unref();
    }
  }

  private async runOne(job: Job<KeyJob>, reconciler: Reconciler): Promise<void> {
    const key = job.data.key;
    const lockKey = `flotilla:queue:${this.options.name}:lock:${key}`;
    const token = randomUUID();
    const locked = await this.redis.set(lockKey, token, 'PX', this.options.lockTtlMs ?? 60_000, 'NX');
    if (locked !== 'OK') {
      // Another worker reconciles this key right now; come back shortly rather than run beside it.
      await this.queue.removeDeduplicationKey(key);
      await this.add(key, { delayMs: 50 });
      return;
    }
    try {
      await this.queue.removeDeduplicationKey(key);
      await reconciler(key);
    } finally {
      await this.redis.eval(RELEASE_LOCK, 1, lockKey, token);
    }
  }

  /** Keys waiting or delayed (for tests and diagnostics). */
  async pendingCount(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async close(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.worker?.close();
    await this.queue.close();
    this.workerRedis?.disconnect();
    this.redis.disconnect();
  }

  /** Removes every job of this queue (tests and `flotilla down --purge`). */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
  }
}
