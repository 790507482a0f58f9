// One probe of one container instance, run every periodSeconds as kubelet's worker does: nothing
// before initialDelaySeconds have passed since the container started, liveness and readiness not until
// the startup probe has passed, and a liveness or startup failure puts the worker on hold (the
// container is about to be killed; the next instance gets a new worker).
import type { Probe } from '@flotilla/api';
import { nextProbeCounters, type ProbeCounters, type ProbeResult } from './probe-result.util';
import { runProbe, type ProbeTarget } from './probe-runner';

export type ProbeKind = 'startup' | 'liveness' | 'readiness';

export interface ProbeWorkerOptions {
  kind: ProbeKind;
  probe: Probe;
  target: ProbeTarget;
  /** When the container instance started (epoch ms). */
  startedAtMs: number;
  /** The result to start from (readiness: failure, liveness: success, startup: unknown). */
  initial?: ProbeResult;
  /** Whether probing may run now (liveness and readiness wait for the startup probe). */
  mayRun: () => boolean;
  /** Called when the reported result changes. */
  onChange: (result: ProbeResult, message: string | undefined) => void;
}

const INITIAL: Record<ProbeKind, ProbeResult> = {
  startup: 'unknown',
  liveness: 'success',
  readiness: 'failure',
};

export class ProbeWorker {
  private counters: ProbeCounters;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private onHold = false;
  lastMessage: string | undefined;

  constructor(private readonly options: ProbeWorkerOptions) {
    this.counters = { result: options.initial ?? INITIAL[options.kind], run: 0 };
  }

  get result(): ProbeResult {
    return this.counters.result;
  }

  get kind(): ProbeKind {
    return this.options.kind;
  }

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick().catch((error: unknown) => {
        // A probe that cannot even be attempted counts as failing; the worker carries on.
        this.lastMessage = error instanceof Error ? error.message : String(error);
        this.schedule((this.options.probe.periodSeconds ?? 10) * 1000);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const began = Date.now();
    const periodMs = (this.options.probe.periodSeconds ?? 10) * 1000;
    const initialDelayMs = (this.options.probe.initialDelaySeconds ?? 0) * 1000;
    const sinceStart = began - this.options.startedAtMs;
    if (this.onHold || !this.options.mayRun()) {
      this.schedule(periodMs);
      return;
    }
    if (sinceStart < initialDelayMs) {
      this.schedule(Math.min(periodMs, initialDelayMs - sinceStart));
      return;
    }
    const outcome = await runProbe(this.options.probe, this.options.target);
    if (this.stopped) return;
    const before = this.counters.result;
    this.counters = nextProbeCounters(this.counters, outcome.ok, {
      successThreshold: this.options.probe.successThreshold ?? 1,
      failureThreshold: this.options.probe.failureThreshold ?? 3,
    });
    this.lastMessage = outcome.ok ? undefined : outcome.message;
    if (this.counters.result === 'failure' && this.options.kind !== 'readiness') this.onHold = true;
    // A startup probe is done once it has passed.
    if (this.options.kind === 'startup' && this.counters.result === 'success') this.stopped = true;
    if (this.counters.result !== before) this.options.onChange(this.counters.result, this.lastMessage);
    this.schedule(Math.max(0, periodMs - (Date.now() - began)));
  }
}
