// Shared measurement helpers for benchmarks: run N operations at a given concurrency and report
// throughput and latency percentiles. Benchmarks print JSON; they never assert on time.

export interface LoadResult {
  readonly operations: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function runLoad(options: {
  readonly operations: number;
  readonly concurrency: number;
  readonly operation: (index: number) => Promise<void>;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.operations) {
      const index = next++;
      const start = process.hrtime.bigint();
      await options.operation(index);
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    operations: options.operations,
    concurrency: options.concurrency,
    seconds: round(seconds),
    perSecond: round(options.operations / seconds),
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
  };
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? 0;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
