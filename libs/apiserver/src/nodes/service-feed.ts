// Services and Endpoints for every connected agent. Every node load-balances every Service, so each
// agent needs all of them; one watch per kind per apiserver (from the watch cache) feeds every node
// session, rather than one watch per node: with N nodes an Endpoints change is encoded once and
// written N times. A session gets the whole set on connect, then each change; after a watch reset
// (the cache started over) every session gets the whole set again, which the agent takes as its new
// table, so nothing missed during the reset survives.
import type { WatchEvent } from '@flotilla/api';
import type { ServerMessage, ServiceObject } from '@flotilla/proto';
import { ServiceObjectChange_Type } from '@flotilla/proto';
import type { Logger } from 'pino';
import type { NodeObjects, ObjectWatch, Stored } from './node-objects.adapter';

const REWATCH_DELAY_MS = 500;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type FeedKind = 'Service' | 'Endpoints';
const KINDS: readonly FeedKind[] = ['Service', 'Endpoints'];

export type ServiceFeedPayload = NonNullable<ServerMessage['payload']>;

function keyOf(kind: FeedKind, object: Stored): string {
  return `${kind}/${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

/**
 * What an agent acts on: the object without the bookkeeping that changes on every write or can be
 * large (managed fields, kubectl's last-applied copy, resourceVersion), so a write that changed
 * nothing an agent reads is not sent at all.
 */
function feedObject(kind: FeedKind, object: Stored): ServiceObject {
  const metadata = { ...object.metadata };
  delete metadata.managedFields;
  delete metadata.resourceVersion;
  if (metadata.annotations?.[LAST_APPLIED] !== undefined) {
    const annotations = { ...metadata.annotations };
    delete annotations[LAST_APPLIED];
    metadata.annotations = annotations;
  }
  return {
    kind,
    namespace: metadata.namespace ?? '',
    name: metadata.name ?? '',
    objectJson: Buffer.from(JSON.stringify({ ...object, metadata })),
  };
}

export class ServiceFeed {
  private readonly objects = new Map<string, ServiceObject>();
  private readonly watches = new Map<FeedKind, ObjectWatch>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listeners = new Set<(payload: ServiceFeedPayload) => void>();
  private stopped = false;

  constructor(private readonly deps: { objects: NodeObjects; logger: Logger }) {}

  async start(): Promise<void> {
    for (const kind of KINDS) await this.watch(kind, false);
  }

  private async watch(kind: FeedKind, restarted: boolean): Promise<void> {
    let initial: Map<string, ServiceObject> | undefined = new Map();
    const watch = await this.deps.objects.watch({
      kind,
      onEvent: (event: WatchEvent) => {
        if (event.type === 'ERROR' || event.type === 'BOOKMARK') return;
        const object = event.object as unknown as Stored;
        const key = keyOf(kind, object);
        if (initial) {
          if (event.type === 'DELETED') initial.delete(key);
          else initial.set(key, feedObject(kind, object));
          return;
        }
        this.apply(key, event.type === 'DELETED' ? undefined : feedObject(kind, object));
      },
      onEnd: () => {
        if (this.stopped) return;
        this.watches.delete(kind);
        this.rewatch(kind);
      },
    });
    if (this.stopped) {
      watch.close();
      return;
    }
    this.watches.set(kind, watch);
    for (const key of [...this.objects.keys()]) if (key.startsWith(`${kind}/`)) this.objects.delete(key);
    for (const [key, object] of initial) this.objects.set(key, object);
    initial = undefined;
    if (restarted) this.publish({ $case: 'services', value: this.snapshot() });
  }

  private rewatch(kind: FeedKind): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.watch(kind, true).catch((error: unknown) => {
        this.deps.logger.warn({ err: error, kind }, 'the service feed could not watch again; retrying');
        this.rewatch(kind);
      });
    }, REWATCH_DELAY_MS);
    this.timers.add(timer);
  }

  private apply(key: string, object: ServiceObject | undefined): void {
    const previous = this.objects.get(key);
    if (object === undefined) {
      if (!previous) return;
      this.objects.delete(key);
      this.publish({
        $case: 'serviceChange',
        value: {
          type: ServiceObjectChange_Type.DELETE,
          object: { ...previous, objectJson: Buffer.alloc(0) },
        },
      });
      return;
    }
    if (previous && Buffer.compare(Buffer.from(previous.objectJson), Buffer.from(object.objectJson)) === 0)
      return;
    this.objects.set(key, object);
    this.publish({ $case: 'serviceChange', value: { type: ServiceObjectChange_Type.UPSERT, object } });
  }

  private publish(payload: ServiceFeedPayload): void {
    for (const listener of this.listeners) listener(payload);
  }

  /** Every Service and Endpoints object as the agents get them. */
  snapshot(): { objects: ServiceObject[] } {
    return { objects: [...this.objects.values()] };
  }

  /** Calls `listener` with each change (and a whole set after a reset); returns the unsubscribe function. */
  subscribe(listener: (payload: ServiceFeedPayload) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const watch of this.watches.values()) watch.close();
    this.watches.clear();
    this.listeners.clear();
  }
}
