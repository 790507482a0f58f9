import type { Pod, Service } from '@flotilla/api';
import { endpointSubsets, resolveTargetPort } from './endpoints.util';

function pod(
  name: string,
  options: {
    ip?: string;
    ready?: boolean;
    node?: string;
    httpPort?: number;
    terminating?: boolean;
    phase?: string;
  } = {},
): Pod {
  return {
    metadata: {
      name,
      namespace: 'web',
      uid: `uid-${name}`,
      ...(options.terminating ? { deletionTimestamp: '2026-11-23T10:00:00Z' } : {}),
    },
    spec: {
      ...(options.node ? { nodeName: options.node } : {}),
      containers: [
        {
          name: 'main',
          image: 'busybox',
          ports: options.httpPort === undefined ? [] : [{ name: 'http', containerPort: options.httpPort }],
        },
      ],
    },
    status: {
      phase: (options.phase ?? 'Running') as 'Running',
      ...(options.ip ? { podIP: options.ip } : {}),
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  } as Pod;
}

const service = (overrides: Partial<NonNullable<Service['spec']>> = {}): Service => ({
  metadata: { name: 'web', namespace: 'web' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...overrides },
});

describe('resolveTargetPort', () => {
  it.each([
    [{ port: 80 }, 80],
    [{ port: 80, targetPort: 8080 }, 8080],
    [{ port: 80, targetPort: '9090' }, 9090],
    [{ port: 80, targetPort: 'http' }, 8080],
    [{ port: 80, targetPort: 'metrics' }, undefined],
    [{ port: 80, targetPort: 'http', protocol: 'UDP' as const }, undefined],
  ])('%j → %s', (servicePort, expected) => {
    expect(resolveTargetPort(servicePort, pod('a', { httpPort: 8080 }))).toBe(expected);
  });
});

describe('endpointSubsets', () => {
  it('splits ready and not-ready pods, leaves out pods without an IP, terminating or finished', () => {
    const subsets = endpointSubsets(service(), [
      pod('b', { ip: '10.244.1.2', ready: false, node: 'n2', httpPort: 8080 }),
      pod('a', { ip: '10.244.0.10', node: 'n1', httpPort: 8080 }),
      pod('a2', { ip: '10.244.0.9', node: 'n1', httpPort: 8080 }),
      pod('c', { httpPort: 8080 }),
      pod('d', { ip: '10.244.0.4', httpPort: 8080, terminating: true }),
      pod('e', { ip: '10.244.0.5', httpPort: 8080, phase: 'Succeeded' }),
    ]);
    expect(subsets).toEqual([
      {
        addresses: [
          {
            ip: '10.244.0.9',
            nodeName: 'n1',
            targetRef: { kind: 'Pod', namespace: 'web', name: 'a2', uid: 'uid-a2' },
          },
          {
            ip: '10.244.0.10',
            nodeName: 'n1',
            targetRef: { kind: 'Pod', namespace: 'web', name: 'a', uid: 'uid-a' },
          },
        ],
        notReadyAddresses: [
          {
            ip: '10.244.1.2',
            nodeName: 'n2',
            targetRef: { kind: 'Pod', namespace: 'web', name: 'b', uid: 'uid-b' },
          },
        ],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it('groups pods whose named port differs into separate subsets, and skips pods without it', () => {
    const subsets = endpointSubsets(service(), [
      pod('a', { ip: '10.0.0.1', httpPort: 8080 }),
      pod('b', { ip: '10.0.0.2', httpPort: 9090 }),
      pod('c', { ip: '10.0.0.3' }),
    ]);
    expect(subsets.map((subset) => [subset.addresses?.map((a) => a.ip), subset.ports?.[0]?.port])).toEqual([
      [['10.0.0.1'], 8080],
      [['10.0.0.2'], 9090],
    ]);
  });

  it('publishes not-ready pods as ready when the service asks for it', () => {
    const subsets = endpointSubsets(service({ publishNotReadyAddresses: true }), [
      pod('b', { ip: '10.0.0.2', ready: false, httpPort: 8080 }),
    ]);
    expect(subsets[0]?.addresses?.map((address) => address.ip)).toEqual(['10.0.0.2']);
    expect(subsets[0]?.notReadyAddresses).toBeUndefined();
  });

  it('lists addresses without ports for a service without ports (headless)', () => {
    expect(endpointSubsets(service({ ports: [] }), [pod('a', { ip: '10.0.0.1' })])).toEqual([
      {
        addresses: [
          { ip: '10.0.0.1', targetRef: { kind: 'Pod', namespace: 'web', name: 'a', uid: 'uid-a' } },
        ],
      },
    ]);
  });
});
