import { resolveResourceName, type KubeObject, type ResourceType } from '@flotilla/api';
import { humanDuration } from './human-duration';
import { podStatus, resourceTable } from './resource-columns';
import { renderTable } from './table.printer';

const NOW = new Date('2026-01-01T12:00:00Z');

function type(name: string): ResourceType {
  const found = resolveResourceName(name);
  if (!found) throw new Error(`no type ${name}`);
  return found;
}

function object(
  kind: string,
  name: string,
  fields: Record<string, unknown> = {},
  minutesOld = 5,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind,
    metadata: {
      name,
      namespace: 'default',
      creationTimestamp: new Date(NOW.getTime() - minutesOld * 60_000).toISOString(),
    },
    ...fields,
  };
}

describe('humanDuration', () => {
  it.each([
    [-5_000, '<invalid>'],
    [59_000, '59s'],
    [119_000, '119s'],
    [125_000, '2m5s'],
    [600_000, '10m'],
    [3 * 3600_000 + 5 * 60_000, '3h5m'],
    [30 * 3600_000, '30h'],
    [3 * 86400_000 + 4 * 3600_000, '3d4h'],
    [40 * 86400_000, '40d'],
    [(3 * 365 + 10) * 86400_000, '3y10d'],
  ])('prints %d ms as %s', (milliseconds, expected) => {
    expect(humanDuration(milliseconds)).toBe(expected);
  });
});

describe('get tables', () => {
  it('prints pods with READY, STATUS, RESTARTS and AGE aligned, and IP/NODE when wide', () => {
    const running = object('Pod', 'web-1', {
      spec: { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'node-1' },
      status: {
        phase: 'Running',
        podIP: '10.0.0.5',
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 1, state: { running: {} } },
          { name: 'b', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } },
        ],
      },
    });
    const pending = object('Pod', 'web-long-name-2', { spec: { containers: [{ name: 'a' }] } }, 200);
    const text = renderTable(
      resourceTable(type('po'), [running, pending], {
        wide: false,
        now: NOW,
        withNamespace: false,
        withKind: false,
      }),
    );
    expect(text).toBe(
      [
        'NAME              READY   STATUS             RESTARTS   AGE',
        'web-1             1/2     CrashLoopBackOff   3          5m',
        'web-long-name-2   0/1     Pending            0          3h20m',
        '',
      ].join('\n'),
    );
    const wide = resourceTable(type('po'), [running], {
      wide: true,
      now: NOW,
      withNamespace: true,
      withKind: true,
    });
    expect(wide.headers).toEqual([
      'NAMESPACE',
      'NAME',
      'READY',
      'STATUS',
      'RESTARTS',
      'AGE',
      'IP',
      'NODE',
      'NOMINATED NODE',
      'READINESS GATES',
    ]);
    expect(wide.rows[0]?.slice(0, 2)).toEqual(['default', 'pod/web-1']);
    expect(wide.rows[0]?.slice(6, 8)).toEqual(['10.0.0.5', 'node-1']);
  });

  it('says Terminating for a pod being deleted', () => {
    const pod = object('Pod', 'p', { status: { phase: 'Running' } });
    pod.metadata.deletionTimestamp = NOW.toISOString();
    expect(podStatus(pod)).toBe('Terminating');
  });

  it('prints deployments and services the way kubectl does', () => {
    const deployment = object('Deployment', 'web', {
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
      },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    });
    expect(
      resourceTable(type('deploy'), [deployment], {
        wide: true,
        now: NOW,
        withNamespace: false,
        withKind: true,
      }),
    ).toEqual({
      headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
      rows: [['deployment.apps/web', '2/3', '3', '2', '5m', 'web', 'nginx:1.27', 'app=web']],
    });
    const service = object('Service', 'web', {
      spec: {
        type: 'NodePort',
        clusterIP: '10.96.0.10',
        ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }],
      },
    });
    expect(
      resourceTable(type('svc'), [service], { wide: false, now: NOW, withNamespace: false, withKind: false })
        .rows,
    ).toEqual([['web', 'NodePort', '10.96.0.10', '<none>', '80:30080/TCP', '5m']]);
  });

  it('prints events without a NAME column', () => {
    const event = object('Event', 'web.1', {
      type: 'Normal',
      reason: 'Scheduled',
      message: 'placed on\nnode-1',
      involvedObject: { kind: 'Pod', name: 'web-1' },
      lastTimestamp: new Date(NOW.getTime() - 30_000).toISOString(),
    });
    expect(
      resourceTable(type('ev'), [event], { wide: false, now: NOW, withNamespace: false, withKind: false }),
    ).toEqual({
      headers: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
      rows: [['30s', 'Normal', 'Scheduled', 'pod/web-1', 'placed on node-1']],
    });
  });
});

describe('HorizontalPodAutoscaler columns', () => {
  it('shows each metric as current/target, utilization in percent and average values as quantities', () => {
    const hpa = object('HorizontalPodAutoscaler', 'web', {
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
          },
          {
            type: 'Resource',
            resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } },
          },
        ],
      },
      status: {
        currentReplicas: 4,
        desiredReplicas: 4,
        currentMetrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', current: { averageUtilization: 45, averageValue: '45m' } },
          },
        ],
      },
    });
    expect(
      resourceTable(type('hpa'), [hpa], { wide: false, now: NOW, withNamespace: false, withKind: false }),
    ).toEqual({
      headers: ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE'],
      rows: [['web', 'Deployment/web', 'cpu: 45%/50%, memory: <unknown>/100Mi', '2', '10', '4', '5m']],
    });
  });
});
