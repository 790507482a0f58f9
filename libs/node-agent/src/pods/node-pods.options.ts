// What the pod engine needs from the agent that runs it. Everything about the node's identity and
// network comes in here; nothing is read from the environment.
import type { ClusterDns } from './pod-dns.util';
import type { BackoffPolicy } from './restart-backoff.util';
import type { ResolveObject } from './volumes/pod-volumes';

export interface NodePodsOptions {
  /** This node's name (spec.nodeName of its pods). */
  nodeName: string;
  /**
   * The runtime's state directory (images, containers, networks), shared with `flotilla image` and
   * `flotilla container`; the engine keeps its own records under <stateDir>/pods.
   */
  stateDir: string;
  /** The node's pod range, e.g. 10.88.1.0/24; the bridge takes its first address. */
  podCidr: string;
  /** The node's Linux bridge (at most 15 characters). */
  bridgeName: string;
  /** The cluster's whole pod range, when peers' pod CIDRs are routed (default: podCidr alone). */
  clusterCidr?: string;
  /** nftables table / iptables chain prefix for hostPorts (default derived from bridgeName). */
  firewallTable?: string;
  /** The node-level cgroup every pod cgroup goes under, relative to the cgroup root. */
  cgroupParent: string;
  /** Where the cgroup filesystem is mounted (default /sys/fs/cgroup). */
  cgroupRoot?: string;
  /** The node's allocatable; caps the node-level cgroup when given. */
  allocatable?: { cpuMillicores?: number; memoryBytes?: number };
  /**
   * The cgroup whose usage is the node's in usage(): the node's own cgroup when the agent and its pods
   * share one (node hosts). Without it the whole host's (/proc/stat, /proc/meminfo), as the kubelet
   * reports its root cgroup.
   */
  nodeUsageCgroup?: string;
  /** The node's address: status.hostIP, and podIP of hostNetwork pods. */
  nodeIP?: string;
  /** The cluster DNS service; without it pods get the node's resolv.conf. */
  clusterDns?: ClusterDns;
  /** The node's resolv.conf (default /etc/resolv.conf). */
  hostResolvConfPath?: string;
  /** Where image names without a registry are pulled from (e.g. "127.0.0.1:5000"). */
  defaultRegistry?: string;
  /** Registries spoken to over plain HTTP besides loopback ones. */
  insecureRegistries?: string[];
  /** Reads a ConfigMap or Secret for env and volumes (the agent backs it with the API). */
  resolveObject?: ResolveObject;
  /** Container restart back-off (default Kubernetes': 10 s doubling to 5 min). */
  restartBackoff?: BackoffPolicy;
  /** Image pull back-off (default the same as restarts). */
  imagePullBackoff?: BackoffPolicy;
  /** How often every pod is reconciled even without events (default 10 s). */
  resyncIntervalMs?: number;
  /** The shim binary (default: FLOTILLA_SHIM or this checkout's). */
  shimPath?: string;
  /** Where problems the engine cannot report in a pod's status go (default stderr). */
  log?: (message: string) => void;
}
