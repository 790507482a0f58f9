import type { ClusterNames, ServiceNames } from './cluster-names.types';
import { answerQuery, dashedIpv4 } from './cluster-dns.resolver';
import { DnsRcode, DnsType, type DnsQuery, type DnsRecord } from './dns-message.util';

/** The seam the agent's service table fills; here a fixed table of services. */
function tableOf(services: Record<string, ServiceNames>): ClusterNames {
  return {
    lookupService: (namespace, name) => services[`${namespace}/${name}`],
    hasNamespace: (namespace) => Object.keys(services).some((key) => key.startsWith(`${namespace}/`)),
  };
}

const names = tableOf({
  'shop/web': {
    clusterIP: '10.96.0.12',
    ready: ['10.88.1.5', '10.88.2.6'],
    ports: [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'metrics', port: 9100, protocol: 'TCP' },
    ],
  },
  'shop/db': {
    clusterIP: 'None',
    ready: ['10.88.1.7', 'fd00::8', '10.88.2.8'],
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  },
  'shop/empty': { ready: [], ports: [{ name: '', port: 80, protocol: 'TCP' }] },
  // One named port that resolved to a different number on each pod.
  'shop/mixed': {
    ready: ['10.88.1.9', '10.88.2.9'],
    ports: [
      { name: 'http', port: 8080, protocol: 'TCP', addresses: ['10.88.1.9'] },
      { name: 'http', port: 9090, protocol: 'TCP', addresses: ['10.88.2.9'] },
    ],
  },
});

function query(name: string, type: number = DnsType.A, klass = 1): DnsQuery {
  return {
    id: 42,
    opcode: 0,
    recursionDesired: true,
    checkingDisabled: false,
    question: { labels: name === '' ? [] : name.split('.'), type, class: klass },
  };
}

function brief(records: DnsRecord[] | undefined): string[] {
  return (records ?? []).map((record) => {
    const data = record.data;
    const value =
      data.type === 'A'
        ? data.address
        : data.type === 'SRV'
          ? `${data.priority} ${data.weight} ${data.port} ${data.target}`
          : `${data.primary} ${data.mailbox}`;
    return `${record.name} ${record.ttl} ${data.type} ${value}`;
  });
}

const SOA = 'cluster.local 5 SOA ns.dns.cluster.local hostmaster.cluster.local';

describe('answerQuery', () => {
  const cases: Array<{
    what: string;
    name: string;
    type?: number;
    rcode: number;
    answers?: string[];
    authority?: string[];
    additional?: string[];
  }> = [
    {
      what: 'a ClusterIP service by its FQDN',
      name: 'web.shop.svc.cluster.local',
      rcode: DnsRcode.NoError,
      answers: ['web.shop.svc.cluster.local 5 A 10.96.0.12'],
    },
    {
      what: 'the same in any case',
      name: 'WEB.Shop.SVC.cluster.LOCAL',
      rcode: DnsRcode.NoError,
      answers: ['web.shop.svc.cluster.local 5 A 10.96.0.12'],
    },
    {
      what: 'a headless service: every ready IPv4 endpoint',
      name: 'db.shop.svc.cluster.local',
      rcode: DnsRcode.NoError,
      answers: ['db.shop.svc.cluster.local 5 A 10.88.1.7', 'db.shop.svc.cluster.local 5 A 10.88.2.8'],
    },
    {
      what: 'a headless service without ready endpoints: NODATA',
      name: 'empty.shop.svc.cluster.local',
      rcode: DnsRcode.NoError,
      authority: [SOA],
    },
    {
      what: 'AAAA of a known service: NODATA, so the A answer still counts',
      name: 'web.shop.svc.cluster.local',
      type: DnsType.AAAA,
      rcode: DnsRcode.NoError,
      authority: [SOA],
    },
    {
      what: 'an unknown service: NXDOMAIN with the SOA',
      name: 'nope.shop.svc.cluster.local',
      rcode: DnsRcode.NxDomain,
      authority: [SOA],
    },
    {
      what: 'a search-path expansion of an FQDN (ndots 5): NXDOMAIN',
      name: 'web.shop.svc.cluster.local.shop.svc.cluster.local',
      rcode: DnsRcode.NxDomain,
      authority: [SOA],
    },
    {
      what: '"web" expanded with the second search domain (namespace "web" has no service)',
      name: 'web.svc.cluster.local',
      rcode: DnsRcode.NxDomain,
      authority: [SOA],
    },
    {
      what: 'a namespace with services: exists without records',
      name: 'shop.svc.cluster.local',
      rcode: DnsRcode.NoError,
      authority: [SOA],
    },
    {
      what: 'a named port: SRV to the service name with its A record',
      name: '_http._tcp.web.shop.svc.cluster.local',
      type: DnsType.SRV,
      rcode: DnsRcode.NoError,
      answers: ['_http._tcp.web.shop.svc.cluster.local 5 SRV 0 100 8080 web.shop.svc.cluster.local'],
      additional: ['web.shop.svc.cluster.local 5 A 10.96.0.12'],
    },
    {
      what: 'a headless named port: one SRV per endpoint, targets named after their address',
      name: '_pg._tcp.db.shop.svc.cluster.local',
      type: DnsType.SRV,
      rcode: DnsRcode.NoError,
      answers: [
        '_pg._tcp.db.shop.svc.cluster.local 5 SRV 0 100 5432 10-88-1-7.db.shop.svc.cluster.local',
        '_pg._tcp.db.shop.svc.cluster.local 5 SRV 0 100 5432 10-88-2-8.db.shop.svc.cluster.local',
      ],
      additional: [
        '10-88-1-7.db.shop.svc.cluster.local 5 A 10.88.1.7',
        '10-88-2-8.db.shop.svc.cluster.local 5 A 10.88.2.8',
      ],
    },
    {
      what: 'a headless named port with a different number per endpoint',
      name: '_http._tcp.mixed.shop.svc.cluster.local',
      type: DnsType.SRV,
      rcode: DnsRcode.NoError,
      answers: [
        '_http._tcp.mixed.shop.svc.cluster.local 5 SRV 0 100 8080 10-88-1-9.mixed.shop.svc.cluster.local',
        '_http._tcp.mixed.shop.svc.cluster.local 5 SRV 0 100 9090 10-88-2-9.mixed.shop.svc.cluster.local',
      ],
      additional: [
        '10-88-1-9.mixed.shop.svc.cluster.local 5 A 10.88.1.9',
        '10-88-2-9.mixed.shop.svc.cluster.local 5 A 10.88.2.9',
      ],
    },
    {
      what: 'the A record of a headless SRV target',
      name: '10-88-2-8.db.shop.svc.cluster.local',
      rcode: DnsRcode.NoError,
      answers: ['10-88-2-8.db.shop.svc.cluster.local 5 A 10.88.2.8'],
    },
    {
      what: 'an address that is not one of the headless endpoints',
      name: '10-88-9-9.db.shop.svc.cluster.local',
      rcode: DnsRcode.NxDomain,
      authority: [SOA],
    },
    {
      what: 'an unnamed or wrong-protocol port',
      name: '_http._udp.web.shop.svc.cluster.local',
      type: DnsType.SRV,
      rcode: DnsRcode.NxDomain,
      authority: [SOA],
    },
    {
      what: 'an unnamed port: no SRV record, even for the label "_"',
      name: '_._tcp.empty.shop.svc.cluster.local',
      type: DnsType.SRV,
      rcode: DnsRcode.NxDomain,
      authority: [SOA],
    },
    {
      what: 'A of a named-port name: NODATA',
      name: '_http._tcp.web.shop.svc.cluster.local',
      rcode: DnsRcode.NoError,
      authority: [SOA],
    },
    {
      what: 'a pod by its dashed address',
      name: '10-88-1-5.shop.pod.cluster.local',
      rcode: DnsRcode.NoError,
      answers: ['10-88-1-5.shop.pod.cluster.local 5 A 10.88.1.5'],
    },
    {
      what: 'a pod name that is not an address',
      name: '10-88-1-500.shop.pod.cluster.local',
      rcode: DnsRcode.NxDomain,
      authority: [SOA],
    },
    {
      what: 'the zone apex SOA',
      name: 'cluster.local',
      type: DnsType.SOA,
      rcode: DnsRcode.NoError,
      answers: [SOA],
    },
    {
      what: 'something else in the domain',
      name: 'www.cluster.local',
      rcode: DnsRcode.NxDomain,
      authority: [SOA],
    },
    {
      what: 'a name outside the domain without an upstream: REFUSED',
      name: 'example.com',
      rcode: DnsRcode.Refused,
    },
    { what: 'a name that only ends like the domain', name: 'mycluster.local', rcode: DnsRcode.Refused },
  ];

  it.each(cases)('answers $what', ({ name, type, rcode, answers, authority, additional }) => {
    const decision = answerQuery(query(name, type), {
      names,
      domain: 'cluster.local',
      ttlSeconds: 5,
      upstream: false,
    });
    expect(decision.kind).toBe('answer');
    if (decision.kind !== 'answer') return;
    const response = decision.response;
    expect(response.rcode).toBe(rcode);
    expect(response.id).toBe(42);
    expect(response.question?.labels.join('.')).toBe(name);
    expect(brief(response.answers)).toEqual(answers ?? []);
    expect(brief(response.authority)).toEqual(authority ?? []);
    expect(brief(response.additional)).toEqual(additional ?? []);
    expect(response.authoritative).toBe(rcode !== DnsRcode.Refused);
  });

  it('forwards names outside the domain when there is an upstream, and answers its own', () => {
    const options = { names, domain: 'cluster.local', ttlSeconds: 5, upstream: true };
    expect(answerQuery(query('example.com'), options)).toEqual({ kind: 'forward' });
    expect(answerQuery(query('web.shop.svc.cluster.local'), options)).toMatchObject({
      kind: 'answer',
      response: { rcode: DnsRcode.NoError, recursionAvailable: true },
    });
  });

  it('serves another cluster domain', () => {
    const decision = answerQuery(query('web.shop.svc.corp.example'), {
      names,
      domain: 'corp.example',
      ttlSeconds: 30,
      upstream: false,
    });
    expect(decision.kind === 'answer' && brief(decision.response.answers)).toEqual([
      'web.shop.svc.corp.example 30 A 10.96.0.12',
    ]);
  });

  it('answers CHAOS-class questions with NOTIMP', () => {
    const decision = answerQuery(query('web.shop.svc.cluster.local', DnsType.A, 3), {
      names,
      domain: 'cluster.local',
      ttlSeconds: 5,
      upstream: false,
    });
    expect(decision).toMatchObject({ kind: 'answer', response: { rcode: DnsRcode.NotImp } });
  });
});

describe('dashedIpv4', () => {
  it.each([
    ['10-88-0-7', '10.88.0.7'],
    ['0-0-0-0', '0.0.0.0'],
    ['255-255-255-255', '255.255.255.255'],
    ['10-88-0', undefined],
    ['10-88-0-7-1', undefined],
    ['10-88-0-256', undefined],
    ['10-88-0-07', undefined],
    ['10-88-0-x', undefined],
    ['10-88--7', undefined],
  ])('%s → %s', (label, address) => {
    expect(dashedIpv4(label)).toBe(address);
  });
});
