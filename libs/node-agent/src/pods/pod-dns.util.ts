// The files kubelet writes for every pod and bind-mounts into each of its containers: /etc/hosts
// (localhost, the IPv6 names and the pod's own name on its IP) and /etc/resolv.conf (the cluster DNS
// with the namespace's search path, or the node's own file).
//
// Worked example: pod web-1 in namespace shop with IP 10.88.0.7 and cluster DNS 10.96.0.10 in
// cluster.local, node search "lan":
//   hosts:  ...the fixed lines... then "10.88.0.7\tweb-1"
//   resolv: "search shop.svc.cluster.local svc.cluster.local cluster.local lan\n
//            nameserver 10.96.0.10\noptions ndots:5\n"
import type { PodSpec } from '@flotilla/api';

export interface ClusterDns {
  /** The cluster DNS service's addresses. */
  servers: string[];
  /** The cluster domain (default "cluster.local"). */
  domain?: string;
}

const FIXED_HOSTS = [
  '# Kubernetes-managed hosts file.',
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'fe00::0\tip6-mcastprefix',
  'fe00::1\tip6-allnodes',
  'fe00::2\tip6-allrouters',
];

/** The pod's hostname: spec.hostname, else its name, cut to a DNS label (63) as kubelet does. */
export function podHostname(podName: string, spec: Pick<PodSpec, 'hostname'>): string {
  return (spec.hostname ?? podName).slice(0, 63).replace(/[-.]+$/, '');
}

export interface HostsFileInput {
  hostname: string;
  namespace: string;
  podIP?: string;
  subdomain?: string;
  domain?: string;
}

export function hostsFile(input: HostsFileInput): string {
  const lines = [...FIXED_HOSTS];
  if (input.podIP !== undefined) {
    if (input.subdomain !== undefined && input.subdomain !== '') {
      const fqdn = `${input.hostname}.${input.subdomain}.${input.namespace}.svc.${input.domain ?? 'cluster.local'}`;
      lines.push(`${input.podIP}\t${fqdn}\t${input.hostname}`);
    } else {
      lines.push(`${input.podIP}\t${input.hostname}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface ResolvConfInput {
  spec: Pick<PodSpec, 'dnsPolicy' | 'hostNetwork'>;
  namespace: string;
  clusterDns?: ClusterDns;
  /** The node's /etc/resolv.conf, used for dnsPolicy Default and where there is no cluster DNS. */
  hostResolvConf: string;
}

function hostSearches(hostResolvConf: string): string[] {
  const searches: string[] = [];
  for (const line of hostResolvConf.split('\n')) {
    const [keyword, ...rest] = line.trim().split(/\s+/);
    if (keyword === 'search' || keyword === 'domain') searches.splice(0, searches.length, ...rest);
  }
  return searches;
}

/** Kubernetes' dnsPolicy: ClusterFirst (not for hostNetwork), ClusterFirstWithHostNet, Default, None. */
export function resolvConf(input: ResolvConfInput): string {
  const policy = input.spec.dnsPolicy ?? 'ClusterFirst';
  const useCluster =
    input.clusterDns !== undefined &&
    input.clusterDns.servers.length > 0 &&
    (policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && input.spec.hostNetwork !== true));
  if (policy === 'None') return '';
  if (!useCluster || input.clusterDns === undefined) return input.hostResolvConf;
  const domain = input.clusterDns.domain ?? 'cluster.local';
  const searches = [
    `${input.namespace}.svc.${domain}`,
    `svc.${domain}`,
    domain,
    ...hostSearches(input.hostResolvConf),
  ];
  // glibc reads at most six search domains (kubelet trims the same way).
  const lines = [
    `search ${[...new Set(searches)].slice(0, 6).join(' ')}`,
    ...input.clusterDns.servers.slice(0, 3).map((server) => `nameserver ${server}`),
    'options ndots:5',
  ];
  return `${lines.join('\n')}\n`;
}
