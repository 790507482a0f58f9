import type { MetricSpec } from '@flotilla/api';
import { metricNameOf, rescaleReason, setCondition, utilizationSummary } from './hpa-status.util';

describe('metricNameOf', () => {
  it.each<[MetricSpec, string]>([
    [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
      },
      'cpu resource utilization (percentage of request)',
    ],
    [
      {
        type: 'Resource',
        resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } },
      },
      'memory resource',
    ],
    [
      {
        type: 'Pods',
        pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } },
      },
      'pods metric',
    ],
  ])('%j → %s', (metric, name) => {
    expect(metricNameOf(metric)).toBe(name);
  });
});

describe('rescaleReason', () => {
  const cpu = {
    metricName: 'cpu resource utilization (percentage of request)',
    summary: utilizationSummary('cpu', 180, 50),
  };
  it.each<[string, Parameters<typeof rescaleReason>[0], string]>([
    [
      'up',
      { currentReplicas: 2, desiredReplicas: 5, leadingMetric: cpu, observed: [cpu] },
      'cpu resource utilization (percentage of request) above target (cpu: 180% of request, target 50%; was 2)',
    ],
    [
      'down',
      { currentReplicas: 5, desiredReplicas: 2, leadingMetric: cpu, observed: [cpu] },
      'All metrics below target (cpu: 180% of request, target 50%; was 5)',
    ],
  ])('%s', (_name, input, expected) => {
    expect(rescaleReason(input)).toBe(expected);
  });
});

describe('setCondition', () => {
  const earlier = '2026-11-23T10:00:00Z';
  const now = '2026-11-23T11:00:00Z';
  it('keeps the transition time while the status holds, and orders the conditions as Kubernetes', () => {
    const first = setCondition(
      [],
      { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'a' },
      earlier,
    );
    const same = setCondition(
      first,
      { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'b' },
      now,
    );
    expect(same).toEqual([
      {
        type: 'ScalingActive',
        status: 'True',
        lastTransitionTime: earlier,
        reason: 'ValidMetricFound',
        message: 'b',
      },
    ]);
    const flipped = setCondition(
      same,
      { type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: 'c' },
      now,
    );
    expect(flipped[0]?.lastTransitionTime).toBe(now);
    const withAble = setCondition(
      flipped,
      { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: 'd' },
      now,
    );
    expect(withAble.map((condition) => condition.type)).toEqual(['AbleToScale', 'ScalingActive']);
  });
});
