import type { Endpoints, Service, ServiceSpec } from '@flotilla/api';
import { backendsFor, serviceRules } from './service-rules.util';

function service(name: string, spec: ServiceSpec, namespace = 'shop'): Service {
  return { metadata: { name, namespace }, spec };
}

function endpoints(name: string, subsets: Endpoints['subsets'], namespace = 'shop'): [string, Endpoints] {
  return [`${namespace}/${name}`, { metadata: { name, namespace }, subsets }];
}

describe('Services and Endpoints to service rules', () => {
  it.each<[string, Service[], [string, Endpoints][], ReturnType<typeof serviceRules>]>([
    [
      'the worked example: NodePort, ready address in, not-ready one out',
      [
        service('web', {
          type: 'NodePort',
          clusterIP: '10.96.0.10',
          ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }],
        }),
      ],
      [
        endpoints('web', [
          {
            addresses: [{ ip: '10.244.1.5' }],
            notReadyAddresses: [{ ip: '10.244.2.7' }],
            ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
          },
        ]),
      ],
      {
        rules: [
          {
            name: 'shop/web:http',
            protocol: 'tcp',
            clusterIp: '10.96.0.10',
            port: 80,
            nodePort: 30080,
            backends: [{ ip: '10.244.1.5', port: 8080 }],
          },
        ],
        skipped: [],
      },
    ],
    [
      'a named target port resolved to different numbers per subset',
      [service('api', { clusterIP: '10.96.0.11', ports: [{ name: 'http', port: 80 }] })],
      [
        endpoints('api', [
          { addresses: [{ ip: '10.244.1.5' }], ports: [{ name: 'http', port: 8080 }] },
          { addresses: [{ ip: '10.244.2.9' }, { ip: '10.244.2.10' }], ports: [{ name: 'http', port: 9090 }] },
        ]),
      ],
      {
        rules: [
          {
            name: 'shop/api:http',
            protocol: 'tcp',
            clusterIp: '10.96.0.11',
            port: 80,
            backends: [
              { ip: '10.244.1.5', port: 8080 },
              { ip: '10.244.2.9', port: 9090 },
              { ip: '10.244.2.10', port: 9090 },
            ],
          },
        ],
        skipped: [],
      },
    ],
    [
      'several ports, each to the endpoints port of its name; UDP kept apart',
      [
        service('dns', {
          clusterIP: '10.96.0.53',
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP' },
            { name: 'dns-tcp', port: 53, protocol: 'TCP' },
            { name: 'metrics', port: 9153 },
          ],
        }),
      ],
      [
        endpoints('dns', [
          {
            addresses: [{ ip: '10.244.1.3' }],
            ports: [
              { name: 'dns', port: 5353, protocol: 'UDP' },
              { name: 'dns-tcp', port: 5353, protocol: 'TCP' },
              { name: 'metrics', port: 9153, protocol: 'TCP' },
            ],
          },
        ]),
      ],
      {
        rules: [
          {
            name: 'shop/dns:dns',
            protocol: 'udp',
            clusterIp: '10.96.0.53',
            port: 53,
            backends: [{ ip: '10.244.1.3', port: 5353 }],
          },
          {
            name: 'shop/dns:dns-tcp',
            protocol: 'tcp',
            clusterIp: '10.96.0.53',
            port: 53,
            backends: [{ ip: '10.244.1.3', port: 5353 }],
          },
          {
            name: 'shop/dns:metrics',
            protocol: 'tcp',
            clusterIp: '10.96.0.53',
            port: 9153,
            backends: [{ ip: '10.244.1.3', port: 9153 }],
          },
        ],
        skipped: [],
      },
    ],
    [
      'no Endpoints, or only not-ready addresses: a rule without backends (connections refused)',
      [
        service('empty', { clusterIP: '10.96.0.12', ports: [{ port: 80 }] }),
        service('down', { clusterIP: '10.96.0.13', ports: [{ port: 80 }] }),
      ],
      [endpoints('down', [{ notReadyAddresses: [{ ip: '10.244.1.8' }], ports: [{ port: 80 }] }])],
      {
        rules: [
          { name: 'shop/down:80', protocol: 'tcp', clusterIp: '10.96.0.13', port: 80, backends: [] },
          { name: 'shop/empty:80', protocol: 'tcp', clusterIp: '10.96.0.12', port: 80, backends: [] },
        ],
        skipped: [],
      },
    ],
    [
      'headless, ExternalName and not-yet-allocated Services get no rules; node ports only for NodePort',
      [
        service('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
        service('external', { type: 'ExternalName', externalName: 'example.invalid' }),
        service('unallocated', { ports: [{ port: 80 }] }),
        service('plain', {
          type: 'ClusterIP',
          clusterIP: '10.96.0.14',
          ports: [{ port: 80, nodePort: 30001 }],
        }),
      ],
      [endpoints('headless', [{ addresses: [{ ip: '10.244.1.9' }], ports: [{ port: 80 }] }])],
      {
        rules: [{ name: 'shop/plain:80', protocol: 'tcp', clusterIp: '10.96.0.14', port: 80, backends: [] }],
        skipped: [],
      },
    ],
    [
      'SCTP, a second claimant of a node port and a malformed IP are skipped with a reason',
      [
        service('a', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30100 }] }),
        service('b', { type: 'NodePort', clusterIP: '10.96.0.21', ports: [{ port: 80, nodePort: 30100 }] }),
        service('c', { clusterIP: '10.96.0.22', ports: [{ port: 80, protocol: 'SCTP' }] }),
        service('d', { clusterIP: 'fd00::1', ports: [{ port: 80 }] }),
      ],
      [],
      {
        rules: [
          {
            name: 'shop/a:80',
            protocol: 'tcp',
            clusterIp: '10.96.0.20',
            port: 80,
            nodePort: 30100,
            backends: [],
          },
        ],
        skipped: [
          'shop/b:80: node port 30100/tcp is already programmed for another service',
          'shop/c:80: protocol SCTP is not programmed (TCP and UDP only)',
          'shop/d: cluster IP "fd00::1" is not an IPv4 address',
        ],
      },
    ],
  ])('%s', (_what, services, endpointList, expected) => {
    expect(serviceRules(services, new Map(endpointList))).toEqual(expected);
  });

  it('takes an address listed in two subsets once', () => {
    const [, list] = endpoints('web', [
      { addresses: [{ ip: '10.244.1.5' }], ports: [{ port: 80 }] },
      { addresses: [{ ip: '10.244.1.5' }], ports: [{ port: 80 }] },
    ]);
    expect(backendsFor(list, {})).toEqual([{ ip: '10.244.1.5', port: 80 }]);
  });
});
