// Runs one write per key at a time and, while one runs, keeps only the newest value for that key:
// an agent that reports a pod's status five times during one slow write gets two writes, the first
// and the last, in that order. Keys are independent (pods do not wait for each other).
export class LatestPerKeyQueue<T> {
  private readonly running = new Map<string, Promise<void>>();
  private readonly pending = new Map<string, T>();

  constructor(
    private readonly run: (key: string, value: T) => Promise<void>,
    private readonly onError: (key: string, error: unknown) => void,
  ) {}

  push(key: string, value: T): void {
    if (this.running.has(key)) {
      this.pending.set(key, value);
      return;
    }
    this.start(key, value);
  }

  private start(key: string, value: T): void {
    const done = this.run(key, value)
      .catch((error: unknown) => this.onError(key, error))
      .finally(() => {
        this.running.delete(key);
        const next = this.pending.get(key);
        if (next !== undefined) {
          this.pending.delete(key);
          this.start(key, next);
        }
      });
    this.running.set(key, done);
  }

  /** Resolves once nothing runs or waits (for an orderly close and for tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }
}
