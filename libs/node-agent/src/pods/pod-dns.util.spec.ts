import type { PodSpec } from '@flotilla/api';
import { hostsFile, podHostname, resolvConf, type ClusterDns } from './pod-dns.util';

const FIXED =
  '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
  'fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';

describe('podHostname', () => {
  it.each([
    ['web-1', {}, 'web-1'],
    ['web-1', { hostname: 'db' }, 'db'],
    [`${'a'.repeat(62)}-b`, {}, 'a'.repeat(62)],
  ])('%s %j → %s', (name, spec, expected) => {
    expect(podHostname(name, spec)).toBe(expected);
  });
});

describe('hostsFile', () => {
  it.each([
    ['no address yet', { hostname: 'web-1', namespace: 'shop' }, FIXED],
    [
      'the worked example',
      { hostname: 'web-1', namespace: 'shop', podIP: '10.88.0.7' },
      `${FIXED}10.88.0.7\tweb-1\n`,
    ],
    [
      'with a subdomain',
      { hostname: 'web-1', namespace: 'shop', podIP: '10.88.0.7', subdomain: 'db' },
      `${FIXED}10.88.0.7\tweb-1.db.shop.svc.cluster.local\tweb-1\n`,
    ],
  ])('%s', (_label, input, expected) => {
    expect(hostsFile(input)).toBe(expected);
  });
});

describe('resolvConf', () => {
  const host = 'nameserver 192.168.1.1\nsearch lan\n';
  const dns: ClusterDns = { servers: ['10.96.0.10'] };
  it.each<[string, Pick<PodSpec, 'dnsPolicy' | 'hostNetwork'>, ClusterDns | undefined, string]>([
    [
      'the worked example: ClusterFirst',
      { dnsPolicy: 'ClusterFirst' },
      dns,
      'search shop.svc.cluster.local svc.cluster.local cluster.local lan\nnameserver 10.96.0.10\noptions ndots:5\n',
    ],
    [
      'ClusterFirst without a cluster DNS falls back to the node',
      { dnsPolicy: 'ClusterFirst' },
      undefined,
      host,
    ],
    ['Default is the node', { dnsPolicy: 'Default' }, dns, host],
    [
      'hostNetwork with ClusterFirst is the node',
      { dnsPolicy: 'ClusterFirst', hostNetwork: true },
      dns,
      host,
    ],
    [
      'ClusterFirstWithHostNet',
      { dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true },
      { servers: ['10.96.0.10'], domain: 'k.local' },
      'search shop.svc.k.local svc.k.local k.local lan\nnameserver 10.96.0.10\noptions ndots:5\n',
    ],
    ['None', { dnsPolicy: 'None' }, dns, ''],
  ])('%s', (_label, spec, clusterDns, expected) => {
    expect(
      resolvConf({ spec, namespace: 'shop', hostResolvConf: host, ...(clusterDns ? { clusterDns } : {}) }),
    ).toBe(expected);
  });
});
