// Compaction of etcd history, owned by the apiservers as kube-apiserver owns it: every interval,
// compact to the revision recorded one interval earlier, so watchers always have at least one
// interval of history to resume from. The last compacted revision is kept in etcd under one key,
// updated by a compare-and-swap on its version, so of several apiservers exactly one compacts per
// interval and every one of them can read where history now starts.
import type { KubeObject } from '@flotilla/api';
import { StoreError, type Store } from './store.types';

export const COMPACT_REVISION_KEY = '/registry/compact_rev_key';

export interface CompactorOptions {
  store: Store;
  intervalMs: number;
  /** Called with the oldest revision still in history whenever it moves (ours or another's compaction). */
  onCompacted: (revision: number) => void;
  onError?: (error: unknown) => void;
}

interface CompactRecord {
  /** The revision the previous interval recorded: what this interval compacts to. */
  pending: number;
  /** The revision history now starts after. */
  compacted: number;
}

function recordOf(object: KubeObject | undefined): CompactRecord {
  const data = (object as { data?: Partial<CompactRecord> } | undefined)?.data ?? {};
  return { pending: Number(data.pending ?? 0), compacted: Number(data.compacted ?? 0) };
}

export class Compactor {
  private timer: NodeJS.Timeout | undefined;
  private lastReported = 0;

  constructor(private readonly options: CompactorOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.runOnce().catch((error: unknown) => this.options.onError?.(error));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One interval: record the current revision and compact to the one recorded last time. */
  async runOnce(): Promise<void> {
    const { store } = this.options;
    const current = await store.currentRevision();
    const existing = await store.get(COMPACT_REVISION_KEY);
    const record = recordOf(existing);
    const next: KubeObject = {
      apiVersion: 'v1',
      kind: 'CompactRecord',
      metadata: { name: 'compact_rev_key' },
      ...({ data: { pending: current, compacted: record.pending || record.compacted } } as object),
    };
    try {
      if (existing)
        await store.update(COMPACT_REVISION_KEY, next, Number(existing.metadata?.resourceVersion));
      else await store.create(COMPACT_REVISION_KEY, next);
    } catch (error) {
      // Another apiserver took this interval; it compacts, we only learn where history starts.
      if (error instanceof StoreError && (error.code === 'Conflict' || error.code === 'AlreadyExists')) {
        this.report(recordOf(await store.get(COMPACT_REVISION_KEY)).compacted);
        return;
      }
      throw error;
    }
    if (record.pending > 0) {
      await store.compact(record.pending).catch((error: unknown) => {
        // Already compacted further (by etcd itself or an operator) is fine.
        if (!(error instanceof StoreError && error.code === 'Gone')) throw error;
      });
      this.report(record.pending);
    }
  }

  private report(revision: number): void {
    if (revision > this.lastReported) {
      this.lastReported = revision;
      this.options.onCompacted(revision);
    }
  }
}
