// Samples the eviction signals on an interval (kubelet's eviction manager checks every 10 s) and keeps
// the node's pressure conditions for the heartbeats, which only read the latest answer: a heartbeat
// never waits on the file system.
import {
  noPressureConditions,
  pressureConditions,
  thresholdsMet,
  type EvictionThreshold,
  type PressureConditionStatus,
  type PressureState,
} from './eviction-threshold.util';
import type { PressureSignalsReader } from './pressure-signals.reader';

export interface NodePressureMonitorOptions {
  reader: Pick<PressureSignalsReader, 'read'>;
  thresholds: readonly EvictionThreshold[];
  /** How often to sample (default 10 s). */
  intervalMs?: number;
  /** How long a condition stays True after its last crossing (kubelet's default 5 min). */
  transitionPeriodMs?: number;
  /** Called when a condition changes status, and when a sample fails. */
  log?: (message: string, fields: Record<string, unknown>) => void;
  now?: () => number;
}

export class NodePressureMonitor {
  private current: PressureConditionStatus[] = noPressureConditions();
  private state: PressureState = { lastObservedMs: {}, lastMet: {} };
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;

  constructor(private readonly options: NodePressureMonitorOptions) {}

  /** The latest conditions (no pressure until the first sample). */
  conditions(): PressureConditionStatus[] {
    return this.current.map((condition) => ({ ...condition }));
  }

  /** Takes a first sample, then one per interval. */
  async start(): Promise<void> {
    await this.sample();
    this.timer = setInterval(() => void this.sample(), this.options.intervalMs ?? 10_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
  }

  /** One observation; overlapping calls share the one in flight. */
  sample(): Promise<void> {
    this.sampling ??= this.observe().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  private async observe(): Promise<void> {
    const log = this.options.log ?? (() => undefined);
    let observations;
    try {
      observations = await this.options.reader.read();
    } catch (error) {
      // Keep the last answer: a failed read says nothing about pressure either way.
      log('could not read the eviction signals; keeping the last pressure conditions', {
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    const met = thresholdsMet(this.options.thresholds, observations);
    const next = pressureConditions({
      met,
      state: this.state,
      nowMs: (this.options.now ?? Date.now)(),
      transitionPeriodMs: this.options.transitionPeriodMs ?? 300_000,
    });
    for (const condition of next.conditions) {
      const before = this.current.find((candidate) => candidate.type === condition.type);
      if (before?.status !== condition.status) {
        log(`node condition ${condition.type} is now ${condition.status}`, {
          reason: condition.reason,
          message: condition.message,
          observations,
        });
      }
    }
    this.state = next.state;
    this.current = next.conditions;
  }
}
