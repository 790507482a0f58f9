// Kubernetes' slow start: make many similar calls in batches that double (1, 2, 4, ...), stopping at
// the first batch with a failure, so a request the apiserver will refuse (quota, bad template) is
// refused once or twice rather than hundreds of times. Example: 10 creations → batches 1, 2, 4, 3.

export function slowStartBatches(count: number, initialBatchSize = 1): number[] {
  const batches: number[] = [];
  let remaining = count;
  for (let size = Math.min(remaining, initialBatchSize); size > 0; size = Math.min(2 * size, remaining)) {
    batches.push(size);
    remaining -= size;
  }
  return batches;
}

export interface SlowStartResult {
  readonly successes: number;
  /** The first failure, if a batch failed (later batches were not started). */
  readonly error?: unknown;
}

/** Runs `call` `count` times in doubling batches, each batch concurrently. */
export async function slowStart(
  count: number,
  call: (index: number) => Promise<void>,
  initialBatchSize = 1,
): Promise<SlowStartResult> {
  let successes = 0;
  let index = 0;
  for (const size of slowStartBatches(count, initialBatchSize)) {
    const results = await Promise.allSettled(Array.from({ length: size }, (_, i) => call(index + i)));
    index += size;
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    successes += results.filter((result) => result.status === 'fulfilled').length;
    if (failed) return { successes, error: failed.reason };
  }
  return { successes };
}
