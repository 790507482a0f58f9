import type { Node } from '@flotilla/api';
import { RegisterRequest } from '@flotilla/proto';
import { RegistrationError, nodeFromRegistration } from './node-registration.util';

const request = (overrides: Partial<RegisterRequest> = {}): RegisterRequest =>
  RegisterRequest.fromPartial({
    nodeName: 'node-a',
    addresses: [{ type: 'InternalIP', address: '10.0.0.2' }],
    capacity: { cpu: '2', memory: '4Gi', pods: '110' },
    allocatable: { cpu: '1900m', memory: '3584Mi', pods: '110' },
    info: { kernelVersion: '6.1.0', operatingSystem: 'linux', architecture: 'amd64', agentVersion: '0.1.0' },
    agentEndpoint: '10.0.0.2:10250',
    ...overrides,
  });

describe('nodeFromRegistration', () => {
  it('describes a new node (the worked example)', () => {
    const node = nodeFromRegistration({ request: request(), podCidr: '10.244.3.0/24' });
    expect(node.metadata.labels).toEqual({
      'kubernetes.io/hostname': 'node-a',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
    });
    expect(node.spec).toEqual({ podCIDR: '10.244.3.0/24', podCIDRs: ['10.244.3.0/24'] });
    expect(node.status).toMatchObject({
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '1900m', memory: '3584Mi', pods: '110' },
      addresses: [{ type: 'InternalIP', address: '10.0.0.2' }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: { kernelVersion: '6.1.0', kubeletVersion: '0.1.0', architecture: 'amd64' },
    });
  });

  it('keeps what others set on a registered node and refreshes what the agent owns', () => {
    const live: Node = {
      metadata: {
        name: 'node-a',
        uid: 'u1',
        resourceVersion: '7',
        labels: { team: 'blue', 'kubernetes.io/arch': 'old' },
      },
      spec: { podCIDR: '10.244.3.0/24', unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        capacity: { cpu: '8', memory: '1Gi' },
      },
    };
    const node = nodeFromRegistration({
      request: request({ labels: { zone: 'z1' } }),
      podCidr: '10.244.3.0/24',
      live,
    });
    expect(node.metadata).toMatchObject({ uid: 'u1', resourceVersion: '7' });
    expect(node.metadata.labels).toMatchObject({ team: 'blue', zone: 'z1', 'kubernetes.io/arch': 'amd64' });
    expect(node.spec).toMatchObject({ unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] });
    expect(node.status?.conditions).toEqual([{ type: 'Ready', status: 'True' }]);
    expect(node.status?.capacity).toEqual({ cpu: '2', memory: '4Gi', pods: '110' });
  });

  it.each<[string, Partial<RegisterRequest>, string]>([
    ['a bad name', { nodeName: 'Node_A' }, 'node name "Node_A" is invalid'],
    [
      'no InternalIP',
      { addresses: [{ type: 'Hostname', address: 'a' }] },
      'without an InternalIP address: give the agent --node-ip',
    ],
    ['an unknown address type', { addresses: [{ type: 'Public', address: '1.2.3.4' }] }, 'needs a type'],
    [
      'a bad quantity',
      { capacity: { cpu: 'two', memory: '1Gi', pods: '', ephemeralStorage: '' } },
      'capacity.cpu "two" is not a quantity',
    ],
    [
      'no memory',
      { capacity: { cpu: '2', memory: '', pods: '', ephemeralStorage: '' } },
      'capacity needs cpu and memory',
    ],
    ['an endpoint without a port', { agentEndpoint: '10.0.0.2' }, 'must be host:port'],
  ])('rejects %s with a clear message', (_case, overrides, message) => {
    const attempt = (): Node =>
      nodeFromRegistration({ request: request(overrides), podCidr: '10.244.3.0/24' });
    expect(attempt).toThrow(RegistrationError);
    expect(attempt).toThrow(message);
  });
});
