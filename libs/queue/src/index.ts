export { KeyedWorkQueue } from './keyed-work-queue';
export type { KeyedWorkQueueOptions, Reconciler } from './keyed-work-queue';
export { DEFAULT_BACKOFF, retryDelayMs } from './backoff.util';
export type { BackoffPolicy } from './backoff.util';
