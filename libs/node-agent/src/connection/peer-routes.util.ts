// Which host-gw routes to add and remove so this node routes exactly to its peers' pod ranges.
//
// Worked example: this node is a; installed {10.244.1.0/24 via 10.0.0.2, 10.244.2.0/24 via 10.0.0.3};
// peers a (10.244.0.0/24), b (10.244.1.0/24 at 10.0.0.2), c (10.244.2.0/24, moved to 10.0.0.9),
// d (10.244.3.0/24 at 10.0.0.4) → add 10.244.2.0/24 via 10.0.0.9 and 10.244.3.0/24 via 10.0.0.4,
// remove nothing; without d and c later → remove 10.244.2.0/24 and 10.244.3.0/24.
import type { Peer } from '@flotilla/proto';

export interface PeerRoute {
  subnet: string;
  via: string;
}

export interface PeerRoutePlan {
  add: PeerRoute[];
  remove: string[];
}

export function planPeerRoutes(options: {
  nodeName: string;
  /** subnet → via, as installed now. */
  installed: ReadonlyMap<string, string>;
  peers: readonly Peer[];
}): PeerRoutePlan {
  const wanted = new Map<string, string>();
  for (const peer of options.peers) {
    if (peer.nodeName === options.nodeName || !peer.podCidr || !peer.internalIp) continue;
    wanted.set(peer.podCidr, peer.internalIp);
  }
  const add: PeerRoute[] = [];
  for (const [subnet, via] of wanted) {
    if (options.installed.get(subnet) !== via) add.push({ subnet, via });
  }
  const remove = [...options.installed.keys()].filter((subnet) => !wanted.has(subnet));
  return { add, remove };
}
