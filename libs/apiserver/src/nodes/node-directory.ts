// Every registered node's address and pod range, from one watch on Nodes per apiserver: the peer
// set each connected agent routes to (host-gw), re-sent to all of them when it changes. A deleted
// Node also frees its pod range and its metrics here.
import type { Node, WatchEvent } from '@flotilla/api';
import type { Peer } from '@flotilla/proto';
import type { Logger } from 'pino';
import type { UsageSink } from '../metrics/usage-samples.store';
import type { NodeObjects, ObjectWatch } from './node-objects.adapter';
import type { PodCidrAllocator } from './pod-cidr.allocator';

const REWATCH_DELAY_MS = 500;

function peerOf(node: Node): Peer | undefined {
  const internalIp = node.status?.addresses?.find((address) => address.type === 'InternalIP')?.address;
  const podCidr = node.spec?.podCIDR;
  if (!internalIp || !podCidr) return undefined;
  return { nodeName: node.metadata.name ?? '', internalIp, podCidr };
}

function samePeers(a: readonly Peer[], b: readonly Peer[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class NodeDirectory {
  private nodes = new Map<string, Peer>();
  private last: Peer[] = [];
  private readonly listeners = new Set<(peers: Peer[]) => void>();
  private watch: ObjectWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly deps: {
      objects: NodeObjects;
      allocator: PodCidrAllocator;
      metrics: UsageSink;
      logger: Logger;
    },
  ) {}

  async start(): Promise<void> {
    let initial: Map<string, Peer> | undefined = new Map();
    /** True when the node's peer entry changed (most Node events are heartbeats: it does not). */
    const apply = (into: Map<string, Peer>, event: WatchEvent): boolean => {
      const node = event.object as Node;
      const name = node.metadata.name ?? '';
      const peer = event.type === 'DELETED' ? undefined : peerOf(node);
      const before = into.get(name);
      if (peer) into.set(name, peer);
      else into.delete(name);
      return (
        before?.internalIp !== peer?.internalIp ||
        before?.podCidr !== peer?.podCidr ||
        (before === undefined) !== (peer === undefined)
      );
    };
    this.watch = await this.deps.objects.watch({
      kind: 'Node',
      onEvent: (event) => {
        if (event.type === 'ERROR') return;
        if (initial) {
          apply(initial, event);
          return;
        }
        // Sorting and comparing the whole set costs ~1 ms at 1,000 nodes: only when an entry changed.
        const changed = apply(this.nodes, event);
        if (event.type === 'DELETED') this.forget(event.object as Node);
        if (changed) this.publish();
      },
      onEnd: () => {
        if (this.stopped) return;
        // The cache was reset: watch again, which replays the full current set.
        this.timer = setTimeout(() => {
          this.start().catch((error: unknown) => {
            this.deps.logger.warn({ err: error }, 'node directory could not watch nodes; retrying');
            this.timer = setTimeout(() => void this.start().catch(() => undefined), REWATCH_DELAY_MS);
          });
        }, REWATCH_DELAY_MS);
      },
    });
    this.nodes = initial;
    initial = undefined;
    this.publish();
  }

  private forget(node: Node): void {
    const name = node.metadata.name ?? '';
    this.deps.metrics.forget(name).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, node: name }, 'could not drop the usage samples of a deleted node');
    });
    const revision = Number(node.metadata.resourceVersion);
    this.deps.allocator.release(name, Number.isFinite(revision) ? revision : 0).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, node: name }, 'could not free the pod range of a deleted node');
    });
  }

  private publish(): void {
    const peers = [...this.nodes.values()].sort((a, b) => (a.nodeName < b.nodeName ? -1 : 1));
    if (samePeers(peers, this.last)) return;
    this.last = peers;
    for (const listener of this.listeners) listener(peers);
  }

  peers(): Peer[] {
    return this.last;
  }

  /** Calls `listener` whenever the peer set changes; returns the unsubscribe function. */
  subscribe(listener: (peers: Peer[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.watch?.close();
    this.listeners.clear();
  }
}
