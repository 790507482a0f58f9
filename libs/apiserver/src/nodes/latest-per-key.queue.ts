// Runs one write per key at a time and, while one runs, keeps only the newest value for that key:
// an agent that reports a pod's status five times during one slow write gets two writes, the first
// and the last, in that order. Keys are independent (pods do not wait for each other).
// A failed write may be retried after a delay (retryDelayMs), unless a newer value for its key came
// meanwhile: an agent reports a pod's status once per change, so a write lost to an etcd timeout
// would otherwise leave the pod Pending in the API while it runs.
export class LatestPerKeyQueue<T> {
  private readonly running = new Map<string, Promise<void>>();
  /** The newest value waiting per key, with its push number. */
  private readonly pending = new Map<string, { value: T; push: number }>();
  /** The number of the newest value pushed per key; a retry goes ahead only if it is still the newest. */
  private readonly pushes = new Map<string, number>();
  private sequence = 0;
  private readonly attempts = new Map<string, number>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly run: (key: string, value: T) => Promise<void>,
    private readonly onError: (key: string, error: unknown) => void,
    /** The delay before retrying a failed write (attempt 1, 2, ...), or undefined to drop it. */
    private readonly retryDelayMs?: (key: string, error: unknown, attempt: number) => number | undefined,
  ) {}

  push(key: string, value: T): void {
    if (this.stopped) return;
    const push = ++this.sequence;
    this.pushes.set(key, push);
    this.attempts.delete(key);
    this.enqueue(key, value, push);
  }

  private enqueue(key: string, value: T, push: number): void {
    if (this.running.has(key)) {
      this.pending.set(key, { value, push });
      return;
    }
    this.start(key, value, push);
  }

  /** Cancels retries and takes no more values (the stream closed). */
  stop(): void {
    this.stopped = true;
    this.retryTimers.forEach((timer) => clearTimeout(timer));
    this.retryTimers.clear();
  }

  private retryLater(key: string, value: T, push: number, error: unknown): void {
    // A newer value came while this one was written: it is written next (or is being retried), and
    // this one, written after it, would undo it.
    if (this.pushes.get(key) !== push) return;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    const delay = this.stopped ? undefined : this.retryDelayMs?.(key, error, attempt);
    if (delay === undefined) {
      this.attempts.delete(key);
      return;
    }
    this.attempts.set(key, attempt);
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (this.stopped || this.pushes.get(key) !== push) return;
      this.enqueue(key, value, push);
    }, delay);
    timer.unref();
    this.retryTimers.add(timer);
  }

  private start(key: string, value: T, push: number): void {
    const done = this.run(key, value)
      .then(() => {
        this.attempts.delete(key);
        if (!this.pending.has(key)) this.pushes.delete(key);
      })
      .catch((error: unknown) => {
        this.onError(key, error);
        this.retryLater(key, value, push, error);
      })
      .finally(() => {
        this.running.delete(key);
        const next = this.pending.get(key);
        if (next !== undefined) {
          this.pending.delete(key);
          this.start(key, next.value, next.push);
        }
      });
    this.running.set(key, done);
  }

  /** Resolves once nothing runs or waits (for an orderly close and for tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }
}
