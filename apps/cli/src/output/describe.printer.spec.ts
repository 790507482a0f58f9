import type { KubeObject } from '@flotilla/api';
import { describeObject } from './describe.printer';

const NOW = new Date('2026-01-01T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW.getTime() - seconds * 1000).toISOString();

function event(reason: string, secondsAgo: number, count = 1): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `web.${reason}` },
    type: 'Normal',
    reason,
    message: `${reason} message`,
    source: { component: 'deployment-controller' },
    count,
    firstTimestamp: ago(secondsAgo + 600),
    lastTimestamp: ago(secondsAgo),
  };
}

describe('describeObject', () => {
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'shop',
      labels: { app: 'web', tier: 'front' },
      creationTimestamp: '2026-01-01T11:00:00Z',
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: { spec: { containers: [{ name: 'httpd', image: 'busybox:1.36' }] } },
    },
    status: {
      replicas: 3,
      updatedReplicas: 3,
      availableReplicas: 2,
      unavailableReplicas: 1,
      conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }],
    },
  };

  it('prints a deployment in kubectl layout with its events oldest first', () => {
    expect(describeObject(deployment, [event('ScalingReplicaSet', 5, 3), event('Created', 90)], NOW)).toBe(
      [
        'Name:               web',
        'Namespace:          shop',
        'Labels:             app=web',
        '                    tier=front',
        'Annotations:        <none>',
        'CreationTimestamp:  Thu, 01 Jan 2026 11:00:00 +0000',
        'Selector:           app=web',
        'Replicas:           3 desired | 3 updated | 3 total | 2 available | 1 unavailable',
        'StrategyType:       RollingUpdate',
        'Pod Template:',
        '  httpd:',
        '    Image:          busybox:1.36',
        'Conditions:',
        '  Type        Status   Reason',
        '  Available   False    MinimumReplicasUnavailable',
        'Events:',
        '  Type     Reason              Age                From                    Message',
        '  ----     ------              ---                ----                    -------',
        '  Normal   Created             90s                deployment-controller   Created message',
        '  Normal   ScalingReplicaSet   5s (x3 over 10m)   deployment-controller   ScalingReplicaSet message',
        '',
      ].join('\n'),
    );
  });

  it('falls back to the remaining fields as YAML and says when there are no events', () => {
    const configMap: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { key: 'value' },
    };
    expect(describeObject(configMap, [], NOW)).toBe(
      [
        'Name:               c',
        'Labels:             <none>',
        'Annotations:        <none>',
        'CreationTimestamp:  <unknown>',
        'Data:',
        '  key: value',
        'Events:  <none>',
        '',
      ].join('\n'),
    );
  });
});

describe('describeObject for a HorizontalPodAutoscaler', () => {
  it('shows the metrics against their targets, the bounds, behavior, conditions and the decisions', () => {
    const hpa: KubeObject = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'shop', creationTimestamp: '2026-01-01T11:00:00Z' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
          },
        ],
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: 0,
            selectPolicy: 'Max',
            policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }],
          },
        },
      },
      status: {
        currentReplicas: 5,
        desiredReplicas: 5,
        lastScaleTime: ago(60),
        currentMetrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', current: { averageUtilization: 48, averageValue: '48m' } },
          },
        ],
        conditions: [
          {
            type: 'AbleToScale',
            status: 'True',
            reason: 'ReadyForNewScale',
            message: 'recommended size matches current size',
          },
        ],
      },
    };
    const rescale: KubeObject = {
      ...event('SuccessfulRescale', 60),
      message: 'New size: 5; reason: cpu resource utilization (percentage of request) above target',
      source: { component: 'horizontal-pod-autoscaler' },
    };
    const text = describeObject(hpa, [rescale], NOW);
    expect(text).toMatch(/^Reference: +Deployment\/web$/m);
    expect(text).toMatch(
      /^ {2}resource cpu on pods {2}\(as a percentage of request\): +48% \(48m\) \/ 50%$/m,
    );
    expect(text).toMatch(/^Min replicas: +2$/m);
    expect(text).toMatch(/^Max replicas: +10$/m);
    expect(text).toContain('      - Type: Pods  Value: 4  Period: 15 seconds');
    expect(text).toMatch(/^Deployment pods: +5 current \/ 5 desired$/m);
    expect(text).toMatch(/^ {2}AbleToScale +True +ReadyForNewScale +recommended size matches current size$/m);
    expect(text).toMatch(
      /SuccessfulRescale .* horizontal-pod-autoscaler +New size: 5; reason: cpu resource utilization/,
    );
  });
});
