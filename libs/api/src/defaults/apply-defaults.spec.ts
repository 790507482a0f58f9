import { applyDefaults } from './apply-defaults';

type Json = Record<string, unknown>;

describe('applyDefaults', () => {
  it('fills a pod as Kubernetes does and leaves the input alone', () => {
    const input = {
      metadata: { name: 'p' },
      spec: {
        containers: [
          {
            name: 'a',
            image: 'nginx',
            ports: [{ containerPort: 80 }],
            livenessProbe: { httpGet: { port: 80 } },
          },
        ],
      },
    };
    const before = structuredClone(input);
    const pod = applyDefaults('Pod', input) as unknown as { spec: Json & { containers: Json[] } };
    expect(input).toEqual(before);
    expect(pod.spec).toMatchObject({
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
    });
    expect(pod.spec.containers[0]).toMatchObject({
      imagePullPolicy: 'Always',
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      livenessProbe: {
        timeoutSeconds: 1,
        periodSeconds: 10,
        successThreshold: 1,
        failureThreshold: 3,
        httpGet: { port: 80, scheme: 'HTTP' },
      },
    });
  });

  it.each([
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.27', 'IfNotPresent'],
    ['localhost:5000/app', 'Always'],
    ['localhost:5000/app:2', 'IfNotPresent'],
    ['nginx@sha256:0123', 'IfNotPresent'],
  ])('pulls %s with %s', (image, policy) => {
    const pod = applyDefaults('Pod', { spec: { containers: [{ name: 'a', image }] } }) as {
      spec: { containers: Json[] };
    };
    expect(pod.spec.containers[0]?.['imagePullPolicy']).toBe(policy);
  });

  it('fills deployments, replica sets, services, secrets and namespaces', () => {
    expect(applyDefaults('Deployment', { spec: { template: { spec: { containers: [] } } } })).toMatchObject({
      spec: {
        replicas: 1,
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        template: { spec: { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' } },
      },
    });
    expect(applyDefaults('ReplicaSet', { spec: {} })).toMatchObject({ spec: { replicas: 1 } });
    expect(applyDefaults('Service', { spec: { ports: [{ port: 80 }] } })).toMatchObject({
      spec: {
        type: 'ClusterIP',
        sessionAffinity: 'None',
        ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      },
    });
    expect(applyDefaults('Secret', {})).toMatchObject({ type: 'Opaque' });
    expect(applyDefaults('Namespace', { metadata: { name: 'n' } })).toMatchObject({
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  });

  it('requests what a container limits when it requests nothing else, and links services', () => {
    const pod = applyDefaults('Pod', {
      spec: {
        containers: [
          {
            name: 'a',
            image: 'nginx',
            resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } },
          },
        ],
      },
    }) as { spec: Json & { containers: Json[] } };
    expect(pod.spec.containers[0]?.['resources']).toEqual({
      limits: { cpu: '1', memory: '1Gi' },
      requests: { cpu: '500m', memory: '1Gi' },
    });
    expect(pod.spec['enableServiceLinks']).toBe(true);
  });

  it('gives endpoint ports TCP and an HPA without metrics the 80% CPU target', () => {
    expect(applyDefaults('Endpoints', { subsets: [{ ports: [{ port: 80 }] }] })).toEqual({
      subsets: [{ ports: [{ port: 80, protocol: 'TCP' }] }],
    });
    expect(applyDefaults('HorizontalPodAutoscaler', { spec: { maxReplicas: 3 } })).toMatchObject({
      spec: {
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
        ],
      },
    });
  });

  it('gives an HPA Kubernetes’ default behavior, field by field', () => {
    const hpa = applyDefaults('HorizontalPodAutoscaler', {
      spec: {
        maxReplicas: 3,
        behavior: { scaleDown: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
      },
    });
    expect(hpa).toEqual({
      spec: {
        maxReplicas: 3,
        minReplicas: 1,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
        ],
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: 0,
            selectPolicy: 'Max',
            policies: [
              { type: 'Pods', value: 4, periodSeconds: 15 },
              { type: 'Percent', value: 100, periodSeconds: 15 },
            ],
          },
          scaleDown: {
            stabilizationWindowSeconds: 300,
            selectPolicy: 'Max',
            policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
          },
        },
      },
    });
  });

  it('never hands out shared default objects', () => {
    type DefaultedHpa = { spec: { behavior: { scaleUp: { policies: Json[] } } } };
    const defaulted = (): DefaultedHpa =>
      applyDefaults<unknown>('HorizontalPodAutoscaler', { spec: { maxReplicas: 3 } }) as DefaultedHpa;
    defaulted().spec.behavior.scaleUp.policies.length = 0;
    expect(defaulted().spec.behavior.scaleUp.policies).toHaveLength(2);
  });
});
