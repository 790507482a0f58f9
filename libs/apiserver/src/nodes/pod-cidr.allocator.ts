// Hands each node one block of the cluster's pod range. A block is claimed by creating its own etcd
// key, a create that fails when the key exists, so two apiservers registering two nodes at once can
// never hand out one block twice. A node keeps its block across re-registrations (its Node's
// spec.podCIDR is immutable anyway); deleting the Node frees it.
import { StoreError, type Store } from '@flotilla/store';
import {
  blockAt,
  blockCount,
  blockIndex,
  formatCidr,
  lowestFreeBlock,
  parseCidr,
  type Ipv4Cidr,
} from './pod-cidr.util';

export const POD_CIDR_CLAIM_PREFIX = '/registry/flotilla.dev/podcidrclaims/';

interface Claim {
  cidr: string;
  nodeName: string;
  revision: number;
}

export class PodCidrExhaustedError extends Error {
  override readonly name = 'PodCidrExhaustedError';
}

export interface PodCidrAllocatorOptions {
  store: Store;
  clusterCidr: string;
  /** The size of each node's block (default /24: 254 pod addresses). */
  nodePrefixLength?: number;
}

function claimKey(cidr: string): string {
  return `${POD_CIDR_CLAIM_PREFIX}${cidr.replace('/', '-')}`;
}

export class PodCidrAllocator {
  private readonly store: Store;
  readonly cluster: Ipv4Cidr;
  readonly nodePrefixLength: number;
  private readonly count: number;

  constructor(options: PodCidrAllocatorOptions) {
    this.store = options.store;
    this.cluster = parseCidr(options.clusterCidr);
    this.nodePrefixLength = options.nodePrefixLength ?? 24;
    this.count = blockCount(this.cluster, this.nodePrefixLength);
  }

  get clusterCidr(): string {
    return formatCidr(this.cluster);
  }

  private async claims(): Promise<Claim[]> {
    const listed = await this.store.list(POD_CIDR_CLAIM_PREFIX);
    return listed.items.map((item) => ({
      cidr: String(item['cidr']),
      nodeName: String(item['nodeName']),
      revision: Number(item.metadata.resourceVersion),
    }));
  }

  private async tryClaim(cidr: string, nodeName: string): Promise<boolean> {
    try {
      await this.store.create(claimKey(cidr), {
        apiVersion: 'flotilla.dev/v1',
        kind: 'PodCIDRClaim',
        metadata: { name: cidr.replace('/', '-') },
        cidr,
        nodeName,
      });
      return true;
    } catch (error) {
      if (error instanceof StoreError && error.code === 'AlreadyExists') return false;
      throw error;
    }
  }

  /**
   * The node's block: `current` (its Node's spec.podCIDR) when it has one, else the block it already
   * claimed, else the lowest free one.
   */
  async allocate(nodeName: string, current?: string): Promise<string> {
    if (current) {
      // Recorded for a Node registered before its claim was (or by an older server): claim it now
      // so no other node is given the same block; a block outside this cluster range is left alone.
      if (blockIndex(this.cluster, this.nodePrefixLength, current) !== undefined)
        await this.tryClaim(current, nodeName);
      return current;
    }
    for (let attempt = 0; attempt <= this.count; attempt++) {
      const claims = await this.claims();
      const own = claims.find(
        (claim) =>
          claim.nodeName === nodeName &&
          blockIndex(this.cluster, this.nodePrefixLength, claim.cidr) !== undefined,
      );
      if (own) return own.cidr;
      const taken = new Set<number>();
      for (const claim of claims) {
        const index = blockIndex(this.cluster, this.nodePrefixLength, claim.cidr);
        if (index !== undefined) taken.add(index);
      }
      const free = lowestFreeBlock(this.count, taken);
      if (free === undefined) {
        throw new PodCidrExhaustedError(
          `the cluster pod range ${this.clusterCidr} has no free /${this.nodePrefixLength} left for node ${nodeName} ` +
            `(${this.count} nodes hold one each): delete Nodes that are gone or start the apiserver with a wider --cluster-cidr`,
        );
      }
      const cidr = blockAt(this.cluster, this.nodePrefixLength, free);
      // Lost the race for this block to another registration: look again.
      if (await this.tryClaim(cidr, nodeName)) return cidr;
    }
    throw new PodCidrExhaustedError(
      `could not claim a pod range for node ${nodeName}: every attempt raced another registration; retry`,
    );
  }

  /**
   * Frees the blocks of a deleted Node. Only claims written before the deletion (`beforeRevision`) go,
   * so a node that registered again right after its deletion keeps its new claim.
   */
  async release(nodeName: string, beforeRevision: number): Promise<void> {
    for (const claim of await this.claims()) {
      if (claim.nodeName !== nodeName || claim.revision >= beforeRevision) continue;
      try {
        await this.store.delete(claimKey(claim.cidr), claim.revision);
      } catch (error) {
        // Another apiserver freed it first, or it changed hands: either way not ours to delete.
        if (!(error instanceof StoreError) || (error.code !== 'NotFound' && error.code !== 'Conflict'))
          throw error;
      }
    }
  }
}
