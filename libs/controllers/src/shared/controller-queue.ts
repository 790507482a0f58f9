// The work queue every controller of this package runs on: one BullMQ job per `namespace/name` key,
// a periodic resync of every key the informer cache holds, failures retried with back-off and
// logged under the controller's own noun ("deployment", "replicaset").
import { KeyedWorkQueue } from '@flotilla/queue';

export type ControllerLog = (message: string, fields?: Record<string, unknown>) => void;

export interface ControllerQueueOptions {
  readonly name: string;
  readonly redisUrl: string;
  readonly concurrency: number;
  readonly resyncIntervalMs: number;
  /** Every key to resync (from the informer cache). */
  readonly keys: () => readonly string[];
  /** How log lines name a key. */
  readonly noun: string;
  readonly log: ControllerLog;
}

export interface ControllerQueue {
  readonly queue: KeyedWorkQueue;
  /** Adds a key; a failed add is logged, never thrown into an event handler. */
  enqueue(key: string): void;
}

export function createControllerQueue(options: ControllerQueueOptions): ControllerQueue {
  const { log, noun } = options;
  const queue = new KeyedWorkQueue({
    name: options.name,
    redisUrl: options.redisUrl,
    concurrency: options.concurrency,
    resync: { intervalMs: options.resyncIntervalMs, keys: () => Promise.resolve(options.keys()) },
    onError: (key, error) => log(`${noun} sync failed; retrying`, { [noun]: key, error: String(error) }),
  });
  return {
    queue,
    enqueue: (key) => {
      queue.add(key).catch((error: unknown) => log('enqueue failed', { [noun]: key, error: String(error) }));
    },
  };
}
