import { autoscalerFor } from './autoscale.command';

describe('autoscalerFor', () => {
  const target = { kind: 'Deployment', apiVersion: 'apps/v1', name: 'web', namespace: 'shop' };

  it('builds the HPA kubectl autoscale would', () => {
    expect(autoscalerFor(target, { min: 2, max: 10, cpuPercent: 50 })).toEqual({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'shop' },
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
      },
    });
  });

  it('leaves min and the metric to the server defaults when not given, and takes --name', () => {
    const hpa = autoscalerFor(target, { max: 4, name: 'web-hpa' });
    expect(hpa.metadata.name).toBe('web-hpa');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      maxReplicas: 4,
    });
  });

  it('refuses a minimum above the maximum', () => {
    expect(() => autoscalerFor(target, { min: 5, max: 3 })).toThrow(
      '--min (5) cannot be more than --max (3)',
    );
  });
});
