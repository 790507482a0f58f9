// Delayed re-enqueues kept in this process (a pod becoming available after minReadySeconds, a progress
// deadline falling due). They are not delayed jobs in the shared queue because a delayed job would hold
// the key's deduplication slot, and every event for that key until the delay ran out would be dropped.
// A timer lost with its process costs nothing: the next leader's informers enqueue every key on start.

export class RequeueTimers {
  private readonly timers = new Map<string, { readonly at: number; readonly timer: NodeJS.Timeout }>();

  constructor(private readonly enqueue: (key: string) => void) {}

  /** Enqueues `key` after `delayMs`, keeping whichever of this and an earlier request is sooner. */
  after(key: string, delayMs: number): void {
    const at = Date.now() + Math.max(0, delayMs);
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.enqueue(key);
    }, at - Date.now());
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  stop(): void {
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
