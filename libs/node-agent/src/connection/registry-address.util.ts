// Whether the agent may pull from a registry over plain HTTP: only when it sits on this host or on a
// private network (a test or local cluster registry), as Docker treats 127.0.0.0/8 as insecure by
// default; a registry on a public address must speak HTTPS.
//
// Worked example: "127.0.0.1:5000", "10.77.0.1:5000", "192.168.1.4" and "localhost:5000" may use
// HTTP; "registry.example.com", "8.8.8.8:5000" and "[::1]:5000" (IPv6 is not handled) may not.
import { BlockList, isIPv4 } from 'node:net';

const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');

export function plainHttpAllowed(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '');
  if (host === 'localhost') return true;
  return isIPv4(host) && PRIVATE.check(host, 'ipv4');
}
