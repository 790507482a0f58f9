// Which container of which pod on which node a log or exec request is for, with kube-apiserver's
// answers (LogLocation, ExecLocation) when the request cannot be served: those are the messages users
// search for.
import type { Node, Pod } from '@flotilla/api';
import { apiErrors } from '../http/api-error';

export interface PodTarget {
  namespace: string;
  pod: string;
  container: string;
  nodeName: string;
}

function names(containers: readonly { name: string }[] | undefined): string {
  return (containers ?? []).map((container) => container.name).join(' ');
}

/** The container a request means: the one named, or the only one; 400 when that is ambiguous or wrong. */
export function containerOf(pod: Pod, requested: string | undefined): string {
  const name = pod.metadata.name ?? '';
  const containers = pod.spec?.containers ?? [];
  if (requested === undefined) {
    const only = containers.length === 1 ? containers[0] : undefined;
    if (only) return only.name;
    if (containers.length === 0)
      throw apiErrors.badRequest(`a container name must be specified for pod ${name}`);
    const init = names(pod.spec?.initContainers);
    throw apiErrors.badRequest(
      `a container name must be specified for pod ${name}, choose one of: [${names(containers)}]` +
        (init ? ` or one of the init containers: [${init}]` : ''),
    );
  }
  const all = [...containers, ...(pod.spec?.initContainers ?? [])];
  if (!all.some((container) => container.name === requested)) {
    throw apiErrors.badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  return requested;
}

/**
 * A log request for a pod that no node has started: Kubernetes answers with kubelet's "waiting to
 * start" wording, giving the container's waiting reason when the pod reports one.
 */
export function logTargetOf(pod: Pod, requested: string | undefined): PodTarget {
  const container = containerOf(pod, requested);
  const nodeName = pod.spec?.nodeName;
  const podName = pod.metadata.name ?? '';
  if (nodeName === undefined || nodeName === '') {
    const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
    const waiting = statuses.find((status) => status.name === container)?.state?.waiting?.reason;
    throw apiErrors.badRequest(
      `container "${container}" in pod "${podName}" is waiting to start: ${
        waiting ?? 'the pod is not scheduled to a node yet'
      }`,
    );
  }
  return { namespace: pod.metadata.namespace ?? '', pod: podName, container, nodeName };
}

/** Exec needs a node running the pod; kube-apiserver's ExecLocation words the refusal this way. */
export function execTargetOf(pod: Pod, requested: string | undefined): PodTarget {
  const container = containerOf(pod, requested);
  const nodeName = pod.spec?.nodeName;
  const podName = pod.metadata.name ?? '';
  if (nodeName === undefined || nodeName === '') {
    throw apiErrors.badRequest(`pod ${podName} does not have a host assigned`);
  }
  return { namespace: pod.metadata.namespace ?? '', pod: podName, container, nodeName };
}

/**
 * Where a node's agent serves AgentService: its InternalIP and the port it registered as
 * daemonEndpoints.kubeletEndpoint, as kube-apiserver finds a kubelet.
 */
export function agentEndpointOf(node: Node): string {
  const name = node.metadata.name ?? '';
  const address = node.status?.addresses?.find((candidate) => candidate.type === 'InternalIP')?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (address === undefined || address === '' || port === undefined || port <= 0) {
    throw apiErrors.unavailable(
      `node "${name}" has not reported where its agent listens (status.addresses InternalIP and ` +
        `status.daemonEndpoints.kubeletEndpoint.Port): is the node agent running and registered?`,
    );
  }
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
