// Which records answer a question, following the Kubernetes DNS specification (the names CoreDNS's
// kubernetes plugin serves) for the part of it Flotilla has:
//   NAME.NS.svc.DOMAIN                A: the ClusterIP; headless: every ready endpoint
//   _PORT._PROTO.NAME.NS.svc.DOMAIN   SRV per named port (targets get their A records as additional)
//   A-B-C-D.NAME.NS.svc.DOMAIN        A: a headless service's ready endpoint (the SRV targets)
//   A-B-C-D.NS.pod.DOMAIN             A: the address spelled in the name
// The short names pods use ("web", "web.shop") reach us already expanded by the pod's resolver
// through the search path in its /etc/resolv.conf, so only fully qualified names are answered here.
// Anything else in the cluster domain is NXDOMAIN (with the SOA, so it is cached for the TTL);
// a name that exists with no record of the asked type is NOERROR without answers (NODATA), which
// keeps an AAAA lookup from hiding the A record; names outside the domain go to the upstream if
// there is one, else REFUSED.
import type { ClusterNames, ServiceNames } from './cluster-names.types';
import {
  DNS_CLASS_IN,
  DnsRcode,
  DnsType,
  type DnsQuery,
  type DnsRecord,
  type DnsResponse,
} from './dns-message.util';

export interface ClusterDnsAnswerOptions {
  names: ClusterNames;
  /** The cluster domain, e.g. "cluster.local" (lower case, no trailing dot). */
  domain: string;
  /** TTL of every answer and of negative answers (the SOA minimum). */
  ttlSeconds: number;
  /** Whether names outside the cluster domain may be forwarded. */
  upstream: boolean;
}

export type ClusterDnsDecision = { kind: 'answer'; response: DnsResponse } | { kind: 'forward' };

/** "10-88-0-7" → "10.88.0.7", or undefined for anything that is not exactly four decimal octets. */
export function dashedIpv4(label: string): string | undefined {
  const parts = label.split('-');
  if (parts.length !== 4) return undefined;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
  }
  return parts.join('.');
}

function headless(service: ServiceNames): boolean {
  return service.clusterIP === undefined || service.clusterIP === '' || service.clusterIP === 'None';
}

interface Found {
  /** The name exists (NOERROR) even when no record matches the type. */
  exists: boolean;
  answers: DnsRecord[];
  additional: DnsRecord[];
}

const MISSING: Found = { exists: false, answers: [], additional: [] };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A records for the IPv4 addresses among `addresses` (a table may hold IPv6 endpoints too). */
function aRecords(name: string, addresses: readonly string[], ttl: number): DnsRecord[] {
  return addresses
    .filter((address) => IPV4.test(address))
    .map((address) => ({ name, ttl, data: { type: 'A', address } }));
}

/** Everything under svc.DOMAIN; `relative` is the name without ".svc.DOMAIN", lower case. */
function serviceNames(relative: string[], type: number, options: ClusterDnsAnswerOptions): Found {
  const { names, domain, ttlSeconds: ttl } = options;
  const wantsA = type === DnsType.A || type === DnsType.ANY;
  if (relative.length === 0) return { exists: true, answers: [], additional: [] };
  if (relative.length === 1) {
    return { exists: names.hasNamespace(relative[0] ?? ''), answers: [], additional: [] };
  }
  if (relative.length === 2) {
    const [name = '', namespace = ''] = relative;
    const service = names.lookupService(namespace, name);
    if (!service) return MISSING;
    const fqdn = `${name}.${namespace}.svc.${domain}`;
    if (!wantsA) return { exists: true, answers: [], additional: [] };
    const addresses = headless(service) ? service.ready : [service.clusterIP ?? ''];
    return { exists: true, answers: aRecords(fqdn, addresses, ttl), additional: [] };
  }
  if (relative.length === 3) {
    // A headless service's endpoint, named after its address as the SRV targets are.
    const [host = '', name = '', namespace = ''] = relative;
    const service = names.lookupService(namespace, name);
    const address = dashedIpv4(host);
    if (!service || !headless(service) || address === undefined || !service.ready.includes(address)) {
      return MISSING;
    }
    const fqdn = `${host}.${name}.${namespace}.svc.${domain}`;
    return { exists: true, answers: wantsA ? aRecords(fqdn, [address], ttl) : [], additional: [] };
  }
  if (relative.length === 4) {
    const [portLabel = '', protocolLabel = '', name = '', namespace = ''] = relative;
    if (!portLabel.startsWith('_') || !protocolLabel.startsWith('_')) return MISSING;
    const service = names.lookupService(namespace, name);
    if (!service) return MISSING;
    // An unnamed port ("") has no SRV record: "_._tcp.NAME" must not find it.
    const ports = service.ports.filter(
      (port) =>
        port.name !== '' &&
        port.name.toLowerCase() === portLabel.slice(1) &&
        port.protocol.toLowerCase() === protocolLabel.slice(1),
    );
    if (ports.length === 0) return MISSING;
    const srvName = `${portLabel}.${protocolLabel}.${name}.${namespace}.svc.${domain}`;
    if (type !== DnsType.SRV && type !== DnsType.ANY) return { exists: true, answers: [], additional: [] };
    const serviceFqdn = `${name}.${namespace}.svc.${domain}`;
    const answers: DnsRecord[] = [];
    const additional: DnsRecord[] = [];
    for (const port of ports) {
      if (headless(service)) {
        for (const address of (port.addresses ?? service.ready).filter((ip) => IPV4.test(ip))) {
          const target = `${address.replace(/\./g, '-')}.${serviceFqdn}`;
          answers.push({
            name: srvName,
            ttl,
            data: { type: 'SRV', priority: 0, weight: 100, port: port.port, target },
          });
          additional.push(...aRecords(target, [address], ttl));
        }
      } else {
        answers.push({
          name: srvName,
          ttl,
          data: { type: 'SRV', priority: 0, weight: 100, port: port.port, target: serviceFqdn },
        });
        if (additional.length === 0)
          additional.push(...aRecords(serviceFqdn, [service.clusterIP ?? ''], ttl));
      }
    }
    return { exists: true, answers, additional };
  }
  return MISSING;
}

/**
 * Everything under pod.DOMAIN. Like CoreDNS's "pods insecure" (kubeadm's default) the address in
 * the name is answered without checking that such a pod exists: the name says nothing the asker
 * did not already know, and it gives a pod a stable name for a certificate or a log.
 */
function podNames(relative: string[], type: number, ttl: number, domain: string): Found {
  if (relative.length <= 1) return { exists: true, answers: [], additional: [] };
  if (relative.length !== 2) return MISSING;
  const [host = '', namespace = ''] = relative;
  const address = dashedIpv4(host);
  if (address === undefined) return MISSING;
  const wantsA = type === DnsType.A || type === DnsType.ANY;
  return {
    exists: true,
    answers: wantsA ? aRecords(`${host}.${namespace}.pod.${domain}`, [address], ttl) : [],
    additional: [],
  };
}

export function soaRecord(domain: string, ttlSeconds: number): DnsRecord {
  return {
    name: domain,
    ttl: ttlSeconds,
    data: {
      type: 'SOA',
      primary: `ns.dns.${domain}`,
      mailbox: `hostmaster.${domain}`,
      // The zone is generated per query; secondaries never transfer it, so the serial is constant.
      serial: 1,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: ttlSeconds,
    },
  };
}

/** The answer to one parsed query, or "forward" for a name outside the cluster domain. */
export function answerQuery(query: DnsQuery, options: ClusterDnsAnswerOptions): ClusterDnsDecision {
  const { question } = query;
  const base = {
    id: query.id,
    opcode: query.opcode,
    recursionDesired: query.recursionDesired,
    recursionAvailable: options.upstream,
    checkingDisabled: query.checkingDisabled,
    question,
  };
  const labels = question.labels.map((label) => label.toLowerCase());
  const domainLabels = options.domain.split('.');
  const inDomain =
    labels.length >= domainLabels.length &&
    domainLabels.every((label, index) => labels[labels.length - domainLabels.length + index] === label);
  if (!inDomain) {
    if (options.upstream) return { kind: 'forward' };
    return {
      kind: 'answer',
      response: { ...base, rcode: DnsRcode.Refused, authoritative: false },
    };
  }
  if (question.class !== DNS_CLASS_IN && question.class !== 255) {
    return { kind: 'answer', response: { ...base, rcode: DnsRcode.NotImp, authoritative: false } };
  }
  const relative = labels.slice(0, labels.length - domainLabels.length).reverse();
  // `relative` now reads from the zone down: ["svc", "shop", "web"] for web.shop.svc.DOMAIN.
  const [zone, ...below] = relative;
  const belowTopDown = below.reverse();
  let found: Found;
  if (zone === undefined) {
    found = {
      exists: true,
      answers: question.type === DnsType.SOA ? [soaRecord(options.domain, options.ttlSeconds)] : [],
      additional: [],
    };
  } else if (zone === 'svc') {
    found = serviceNames(belowTopDown, question.type, options);
  } else if (zone === 'pod') {
    found = podNames(belowTopDown, question.type, options.ttlSeconds, options.domain);
  } else {
    found = MISSING;
  }
  const negative = found.answers.length === 0;
  return {
    kind: 'answer',
    response: {
      ...base,
      rcode: found.exists ? DnsRcode.NoError : DnsRcode.NxDomain,
      authoritative: true,
      answers: found.answers,
      authority: negative ? [soaRecord(options.domain, options.ttlSeconds)] : [],
      additional: found.additional,
    },
  };
}
