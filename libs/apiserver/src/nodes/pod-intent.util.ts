import type { Pod } from '@flotilla/api';

/**
 * What of a pod its node agent acts on: the spec, labels, annotations and deletion. Every status the
 * agent writes comes back as a watch event on the pod; sending each of those down the stream again
 * (the whole pod, encoded for gRPC) costs the apiserver and the agent work for nothing, so the node
 * session sends an update only when this changes, as kubelet reconciles only when it does.
 *
 * Example: a pod whose status goes from Pending to Running keeps its intent; a pod given a
 * deletionTimestamp, or a new label, gets a new one.
 */
export function podIntent(pod: Pod): string {
  const { labels, annotations, deletionTimestamp, deletionGracePeriodSeconds } = pod.metadata;
  return JSON.stringify([pod.spec, labels, annotations, deletionTimestamp, deletionGracePeriodSeconds]);
}
