import type { Node, Pod } from '@flotilla/api';
import { ApiError } from '../http/api-error';
import { agentEndpointOf, containerOf, execTargetOf, logTargetOf } from './pod-target';

function pod(
  containers: string[],
  extra: { init?: string[]; nodeName?: string; waiting?: string } = {},
): Pod {
  return {
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      containers: containers.map((name) => ({ name, image: 'busybox' })),
      ...(extra.init ? { initContainers: extra.init.map((name) => ({ name, image: 'busybox' })) } : {}),
      ...(extra.nodeName ? { nodeName: extra.nodeName } : {}),
    },
    ...(extra.waiting
      ? {
          status: {
            containerStatuses: [
              {
                name: containers[0] ?? '',
                ready: false,
                restartCount: 0,
                image: 'busybox',
                imageID: '',
                state: { waiting: { reason: extra.waiting } },
              },
            ],
          },
        }
      : {}),
  } as Pod;
}

function message(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return `${error.code} ${error.message}`;
    throw error;
  }
  throw new Error('expected an ApiError');
}

describe('containerOf', () => {
  it.each([
    { containers: ['app'], requested: undefined, chosen: 'app' },
    { containers: ['app', 'sidecar'], requested: 'sidecar', chosen: 'sidecar' },
    { containers: ['app'], init: ['setup'], requested: 'setup', chosen: 'setup' },
  ])('$containers with $requested → $chosen', ({ containers, init, requested, chosen }) => {
    expect(containerOf(pod(containers, init ? { init } : {}), requested)).toBe(chosen);
  });

  it.each([
    {
      subject: pod(['a', 'b']),
      requested: undefined,
      error: '400 a container name must be specified for pod web, choose one of: [a b]',
    },
    {
      subject: pod(['a', 'b'], { init: ['setup'] }),
      requested: undefined,
      error:
        '400 a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [setup]',
    },
    { subject: pod(['a']), requested: 'z', error: '400 container z is not valid for pod web' },
  ])('refuses $requested with: $error', ({ subject, requested, error }) => {
    expect(message(() => containerOf(subject, requested))).toBe(error);
  });
});

describe('targets', () => {
  it('addresses the node the pod is bound to', () => {
    expect(logTargetOf(pod(['app'], { nodeName: 'n1' }), undefined)).toEqual({
      namespace: 'shop',
      pod: 'web',
      container: 'app',
      nodeName: 'n1',
    });
    expect(execTargetOf(pod(['app'], { nodeName: 'n1' }), 'app').nodeName).toBe('n1');
  });

  it.each([
    {
      run: () => logTargetOf(pod(['app']), undefined),
      error: '400 container "app" in pod "web" is waiting to start: the pod is not scheduled to a node yet',
    },
    {
      run: () => logTargetOf(pod(['app'], { waiting: 'ContainerCreating' }), undefined),
      error: '400 container "app" in pod "web" is waiting to start: ContainerCreating',
    },
    { run: () => execTargetOf(pod(['app']), undefined), error: '400 pod web does not have a host assigned' },
  ])('an unscheduled pod: $error', ({ run, error }) => {
    expect(message(run)).toBe(error);
  });
});

describe('agentEndpointOf', () => {
  const node = (status: Node['status']): Node => ({ metadata: { name: 'n1' }, status }) as Node;
  it.each([
    {
      status: {
        addresses: [
          { type: 'Hostname' as const, address: 'n1' },
          { type: 'InternalIP' as const, address: '10.0.0.2' },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      },
      endpoint: '10.0.0.2:10250',
    },
    {
      status: {
        addresses: [{ type: 'InternalIP' as const, address: 'fd00::2' }],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      },
      endpoint: '[fd00::2]:10250',
    },
  ])('$endpoint', ({ status, endpoint }) => {
    expect(agentEndpointOf(node(status))).toBe(endpoint);
  });

  it.each([{ addresses: [] }, { addresses: [{ type: 'InternalIP' as const, address: '10.0.0.2' }] }])(
    'a node without an agent endpoint is unavailable with what is missing',
    (status) => {
      expect(message(() => agentEndpointOf(node(status)))).toMatch(
        /^503 node "n1" has not reported where its agent listens/,
      );
    },
  );
});
