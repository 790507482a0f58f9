// Records Kubernetes Events about objects (what `describe` shows under Events). Repeats of the same
// event are folded into one object whose count and lastTimestamp grow, as client-go's recorder does,
// so a controller that retries in a loop leaves one line rather than thousands of objects.
import { randomBytes } from 'node:crypto';
import { kubeTimestamp, resolveResourceName, type KubeObject, type ResourceType } from '@flotilla/api';
import { isNotFound } from '../rest/api-error';
import type { RestClient } from '../rest/rest-client';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  readonly client: RestClient;
  /** Who reports: "deployment-controller", "default-scheduler", the node agent's name. */
  readonly component: string;
  /** Events must never break the caller; failures to record them are only reported here. */
  readonly onError?: (error: unknown) => void;
  /** How many distinct events to remember for folding repeats (default 4096). */
  readonly cacheSize?: number;
  /**
   * Best effort under load, as client-go's broadcaster (whose 1000-deep channel drops when full):
   * at most `writes` event writes at once, at most `backlog` more waiting; beyond that an event is
   * dropped and reported to `onDropped`, so a burst of events never competes with the caller's work.
   * Absent: every event is written at once.
   */
  readonly limit?: { readonly writes: number; readonly backlog: number };
  readonly onDropped?: (reason: string, target: KubeObject) => void;
}

export interface EventRecorder {
  /** Resolves once recorded (or once recording failed and was reported); never rejects. */
  record(target: KubeObject, type: EventType, reason: string, message: string): Promise<void>;
}

interface Recorded {
  readonly name: string;
  readonly namespace: string;
  count: number;
}

export function createEventRecorder(options: EventRecorderOptions): EventRecorder {
  const events = eventsType();
  const cacheSize = options.cacheSize ?? 4096;
  const recorded = new Map<string, Recorded>();
  // One write at a time per key, so two quick repeats cannot both create an event.
  const pending = new Map<string, Promise<void>>();
  const slots = options.limit ? new WriteSlots(options.limit.writes, options.limit.backlog) : undefined;

  const remember = (key: string, value: Recorded): void => {
    recorded.delete(key);
    recorded.set(key, value);
    if (recorded.size > cacheSize) {
      const oldest = recorded.keys().next().value;
      if (oldest !== undefined) recorded.delete(oldest);
    }
  };

  const write = async (key: string, target: KubeObject, type: EventType, reason: string, message: string) => {
    const now = kubeTimestamp();
    const previous = recorded.get(key);
    if (previous) {
      try {
        await options.client.patch(
          events,
          previous.name,
          { count: previous.count + 1, lastTimestamp: now },
          { namespace: previous.namespace, patchType: 'merge' },
        );
        previous.count += 1;
        remember(key, previous);
        return;
      } catch (error) {
        // The event expired or was deleted: start a new one below.
        if (!isNotFound(error)) throw error;
        recorded.delete(key);
      }
    }
    const namespace = target.metadata.namespace || 'default';
    const created = await options.client.create(
      events,
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {
          name: `${target.metadata.name ?? 'object'}.${randomBytes(8).toString('hex')}`,
          namespace,
        },
        involvedObject: {
          apiVersion: target.apiVersion,
          kind: target.kind,
          namespace: target.metadata.namespace,
          name: target.metadata.name,
          uid: target.metadata.uid,
          resourceVersion: target.metadata.resourceVersion,
        },
        type,
        reason,
        message,
        source: { component: options.component },
        reportingComponent: options.component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
      { namespace },
    );
    remember(key, { name: created.metadata.name ?? '', namespace, count: 1 });
  };

  return {
    record(target, type, reason, message) {
      const key = JSON.stringify([
        target.metadata.namespace,
        target.kind,
        target.metadata.name,
        target.metadata.uid,
        type,
        reason,
        message,
      ]);
      if (slots && !slots.admit()) {
        options.onDropped?.(reason, target);
        return Promise.resolve();
      }
      const previous = pending.get(key) ?? Promise.resolve();
      const next = previous
        .then(() =>
          slots
            ? slots.run(() => write(key, target, type, reason, message))
            : write(key, target, type, reason, message),
        )
        .catch((error: unknown) => options.onError?.(error))
        .finally(() => {
          if (pending.get(key) === next) pending.delete(key);
        });
      pending.set(key, next);
      return next;
    },
  };
}

/** A counting semaphore with a bounded queue: admit() reserves a place, run() waits for a slot. */
class WriteSlots {
  private running = 0;
  private admitted = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly writes: number,
    private readonly backlog: number,
  ) {}

  admit(): boolean {
    if (this.admitted >= this.writes + this.backlog) return false;
    this.admitted += 1;
    return true;
  }

  async run(work: () => Promise<void>): Promise<void> {
    if (this.running >= this.writes) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      await work();
    } finally {
      this.running -= 1;
      this.admitted -= 1;
      this.waiting.shift()?.();
    }
  }
}

function eventsType(): ResourceType {
  const type = resolveResourceName('events');
  if (!type) throw new Error('@flotilla/api has no Event type');
  return type;
}
