// What the scheduler knows about every node, kept current incrementally from informer events, as
// kube-scheduler's cache is: each node's bound and assumed pods, the sum of their requests and a
// count per controlling owner. A scheduling cycle reads it directly instead of regrouping every pod
// of the cluster, so its cost grows with the nodes it looks at, not with the pods that exist.
//
// Assumed pods are the ones this scheduler has decided on but whose binding the informer has not
// shown yet: they count on their node at once, so back-to-back decisions never over-commit it.
import type { NodeInfo, NodeView, PodView, Resources } from '../framework/scheduling-views';

interface MutableNodeInfo extends NodeInfo {
  node: NodeView;
  readonly pods: Map<string, PodView>;
  readonly requested: Resources;
  readonly ownerCounts: Map<string, number>;
}

interface PlacedPod {
  readonly view: PodView;
  readonly nodeName: string;
  readonly assumed: boolean;
}

function emptyInfo(node: NodeView): MutableNodeInfo {
  return {
    node,
    pods: new Map(),
    requested: { milliCpu: 0n, memoryBytes: 0n, pods: 0n },
    ownerCounts: new Map(),
  };
}

export class SchedulerCache {
  private readonly infos = new Map<string, MutableNodeInfo>();
  private readonly placed = new Map<string, PlacedPod>();
  /** Nodes in a stable order for the rotating search; rebuilt only when the set of nodes changes. */
  private ordered: MutableNodeInfo[] | undefined;

  /** Adds or replaces a node; pods already placed on it (even before the node was seen) stay. */
  setNode(node: NodeView): void {
    const existing = this.infos.get(node.name);
    if (existing) {
      existing.node = node;
      return;
    }
    const info = emptyInfo(node);
    this.infos.set(node.name, info);
    for (const placed of this.placed.values()) {
      if (placed.nodeName === node.name) this.account(info, placed.view, 1);
    }
    this.ordered = undefined;
  }

  removeNode(name: string): void {
    if (this.infos.delete(name)) this.ordered = undefined;
  }

  /** A pod as the informer shows it: bound pods count on their node, unbound ones on none. */
  upsertPod(view: PodView): void {
    const previous = this.placed.get(view.key);
    if (!view.nodeName) {
      // Still pending: an assumed placement stands until the binding shows up or is forgotten.
      if (previous && !previous.assumed) this.unplace(view.key);
      return;
    }
    if (previous) this.unplace(view.key);
    this.place({ view, nodeName: view.nodeName, assumed: false });
  }

  removePod(key: string): void {
    this.unplace(key);
  }

  /** Counts the pod on `nodeName` before the API confirms the binding. */
  assume(view: PodView, nodeName: string): void {
    this.unplace(view.key);
    this.place({ view, nodeName, assumed: true });
  }

  /** The binding failed: the assumed pod no longer counts anywhere. */
  forget(key: string): void {
    if (this.placed.get(key)?.assumed) this.unplace(key);
  }

  isAssumed(key: string): boolean {
    return this.placed.get(key)?.assumed === true;
  }

  nodeInfos(): readonly NodeInfo[] {
    this.ordered ??= [...this.infos.values()].sort((a, b) => (a.node.name < b.node.name ? -1 : 1));
    return this.ordered;
  }

  private place(placed: PlacedPod): void {
    this.placed.set(placed.view.key, placed);
    const info = this.infos.get(placed.nodeName);
    if (info) this.account(info, placed.view, 1);
  }

  private unplace(key: string): void {
    const placed = this.placed.get(key);
    if (!placed) return;
    this.placed.delete(key);
    const info = this.infos.get(placed.nodeName);
    if (info) this.account(info, placed.view, -1);
  }

  private account(info: MutableNodeInfo, view: PodView, sign: 1 | -1): void {
    const factor = BigInt(sign);
    info.requested.milliCpu += factor * view.requests.milliCpu;
    info.requested.memoryBytes += factor * view.requests.memoryBytes;
    info.requested.pods += factor;
    if (sign === 1) info.pods.set(view.key, view);
    else info.pods.delete(view.key);
    if (view.ownerUid) {
      const count = (info.ownerCounts.get(view.ownerUid) ?? 0) + sign;
      if (count > 0) info.ownerCounts.set(view.ownerUid, count);
      else info.ownerCounts.delete(view.ownerUid);
    }
  }
}

/** Groups bound pods by node and sums their requests (a one-off SchedulerCache). */
export function buildNodeInfos(nodes: readonly NodeView[], pods: readonly PodView[]): NodeInfo[] {
  const cache = new SchedulerCache();
  for (const node of nodes) cache.setNode(node);
  for (const pod of pods) cache.upsertPod(pod);
  const byName = new Map(cache.nodeInfos().map((info) => [info.node.name, info]));
  return nodes.flatMap((node) => {
    const info = byName.get(node.name);
    return info ? [info] : [];
  });
}
