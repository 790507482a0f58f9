import type { Endpoints, Service } from '@flotilla/api';
import { serviceNamesOf } from './service-names.util';

function service(spec: Service['spec']): Service {
  return { metadata: { name: 'web', namespace: 'shop' }, spec };
}

function endpoints(subsets: Endpoints['subsets']): Endpoints {
  return { metadata: { name: 'web', namespace: 'shop' }, ...(subsets ? { subsets } : {}) };
}

const webEndpoints = endpoints([
  {
    addresses: [{ ip: '10.88.1.5' }],
    notReadyAddresses: [{ ip: '10.88.2.6' }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  },
]);

describe('serviceNamesOf', () => {
  it.each<[string, Service, Endpoints | undefined, ReturnType<typeof serviceNamesOf>]>([
    [
      'the worked example, ClusterIP: the service port',
      service({ clusterIP: '10.96.0.12', ports: [{ name: 'http', port: 80, targetPort: 'http' }] }),
      webEndpoints,
      { clusterIP: '10.96.0.12', ready: ['10.88.1.5'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    ],
    [
      'the worked example, headless: the endpoints port, ready addresses only',
      service({ clusterIP: 'None', ports: [{ name: 'http', port: 80, targetPort: 'http' }] }),
      webEndpoints,
      {
        ready: ['10.88.1.5'],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP', addresses: ['10.88.1.5'] }],
      },
    ],
    [
      'headless publishing not-ready addresses',
      service({ clusterIP: 'None', publishNotReadyAddresses: true }),
      webEndpoints,
      {
        ready: ['10.88.1.5', '10.88.2.6'],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP', addresses: ['10.88.1.5', '10.88.2.6'] }],
      },
    ],
    [
      'a named target port resolved to two numbers: one entry per number with its own endpoints',
      service({ clusterIP: 'None' }),
      endpoints([
        { addresses: [{ ip: '10.88.1.5' }], ports: [{ name: 'http', port: 8080 }] },
        { addresses: [{ ip: '10.88.2.6' }], ports: [{ name: 'http', port: 9090 }] },
      ]),
      {
        ready: ['10.88.1.5', '10.88.2.6'],
        ports: [
          { name: 'http', port: 8080, protocol: 'TCP', addresses: ['10.88.1.5'] },
          { name: 'http', port: 9090, protocol: 'TCP', addresses: ['10.88.2.6'] },
        ],
      },
    ],
    [
      'unnamed ports have no SRV records; UDP kept',
      service({
        clusterIP: '10.96.0.10',
        ports: [{ port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }],
      }),
      undefined,
      { clusterIP: '10.96.0.10', ready: [], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
    ],
    [
      'IPv6 endpoint addresses are left out (A records only)',
      service({ clusterIP: 'None' }),
      endpoints([{ addresses: [{ ip: 'fd00::5' }, { ip: '10.88.1.5' }] }]),
      { ready: ['10.88.1.5'], ports: [] },
    ],
    [
      'an ExternalName service is not served',
      service({ type: 'ExternalName', externalName: 'db.example.com' }),
      undefined,
      undefined,
    ],
  ])('%s', (_what, svc, eps, expected) => {
    expect(serviceNamesOf(svc, eps)).toEqual(expected);
  });
});
