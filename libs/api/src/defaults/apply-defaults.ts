// Defaults as Kubernetes' defaulting functions apply them, so an object read back looks as it would
// on Kubernetes (and controllers can rely on the fields being there). Returns a new object.
import { withMemoryPressureToleration } from './pod-tolerations.util';

type Json = Record<string, unknown>;

function object(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...(value as Json) } : {};
}

function setDefault(target: Json, key: string, value: unknown): void {
  if (target[key] === undefined) target[key] = value;
}

function defaultProbe(probe: unknown): Json | undefined {
  if (probe === undefined) return undefined;
  const result = object(probe);
  setDefault(result, 'timeoutSeconds', 1);
  setDefault(result, 'periodSeconds', 10);
  setDefault(result, 'successThreshold', 1);
  setDefault(result, 'failureThreshold', 3);
  if (result['httpGet'] !== undefined) {
    const httpGet = object(result['httpGet']);
    setDefault(httpGet, 'path', '/');
    setDefault(httpGet, 'scheme', 'HTTP');
    result['httpGet'] = httpGet;
  }
  return result;
}

/** Kubernetes: `Always` for `:latest` or untagged images, `IfNotPresent` otherwise. */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const tagAt = image.indexOf(':', lastSlash + 1);
  const tag = tagAt < 0 ? '' : image.slice(tagAt + 1);
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(raw: unknown): Json {
  const container = object(raw);
  if (typeof container['image'] === 'string')
    setDefault(container, 'imagePullPolicy', defaultPullPolicy(container['image']));
  setDefault(container, 'terminationMessagePath', '/dev/termination-log');
  setDefault(container, 'terminationMessagePolicy', 'File');
  if (Array.isArray(container['ports'])) {
    container['ports'] = container['ports'].map((port) => {
      const result = object(port);
      setDefault(result, 'protocol', 'TCP');
      return result;
    });
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const defaulted = defaultProbe(container[probe]);
    if (defaulted) container[probe] = defaulted;
  }
  // Kubernetes: a limit without a request requests the limit (which makes limits-only pods Guaranteed).
  const resources = container['resources'];
  if (typeof resources === 'object' && resources !== null && !Array.isArray(resources)) {
    const defaulted = object(resources);
    const limits = object(defaulted['limits']);
    if (Object.keys(limits).length > 0) {
      defaulted['requests'] = { ...limits, ...object(defaulted['requests']) };
      container['resources'] = defaulted;
    }
  }
  return container;
}

export function defaultPodSpec(raw: unknown): Json {
  const spec = object(raw);
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'enableServiceLinks', true);
  for (const list of ['containers', 'initContainers']) {
    if (Array.isArray(spec[list])) spec[list] = (spec[list] as unknown[]).map(defaultContainer);
  }
  if (Array.isArray(spec['volumes'])) {
    spec['volumes'] = (spec['volumes'] as unknown[]).map((raw) => {
      const volume = object(raw);
      for (const source of ['configMap', 'secret']) {
        if (volume[source] !== undefined) {
          const defaulted = object(volume[source]);
          setDefault(defaulted, 'defaultMode', 420);
          volume[source] = defaulted;
        }
      }
      return volume;
    });
  }
  return spec;
}

function defaultTemplate(raw: unknown): Json {
  const template = object(raw);
  if (template['spec'] !== undefined) template['spec'] = defaultPodSpec(template['spec']);
  return template;
}

const DEFAULT_HPA_BEHAVIOR = {
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
    policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  },
};

/** Kubernetes fills each unset field of a scaling rule on its own (GenerateHPAScaleUpRules). */
function defaultScalingRules(raw: unknown, defaults: (typeof DEFAULT_HPA_BEHAVIOR)['scaleUp']): Json {
  const rules = object(raw);
  setDefault(rules, 'stabilizationWindowSeconds', defaults.stabilizationWindowSeconds);
  setDefault(rules, 'selectPolicy', defaults.selectPolicy);
  // Fresh copies: callers may change the returned object, never the shared defaults.
  setDefault(
    rules,
    'policies',
    defaults.policies.map((policy) => ({ ...policy })),
  );
  return rules;
}

/** Applies Kubernetes' defaults for `kind` to a copy of `input`. */
export function applyDefaults<T>(kind: string, input: T): T {
  const result = object(input);
  const spec = object(result['spec']);
  switch (kind) {
    case 'Pod':
      // Only pods, never templates: Kubernetes adds it at admission, after the template hash is taken.
      result['spec'] = withMemoryPressureToleration(defaultPodSpec(spec));
      break;
    case 'Deployment': {
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      const strategy = object(spec['strategy']);
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy['type'] === 'RollingUpdate') {
        const rolling = object(strategy['rollingUpdate']);
        setDefault(rolling, 'maxSurge', '25%');
        setDefault(rolling, 'maxUnavailable', '25%');
        strategy['rollingUpdate'] = rolling;
      }
      spec['strategy'] = strategy;
      if (spec['template'] !== undefined) spec['template'] = defaultTemplate(spec['template']);
      result['spec'] = spec;
      break;
    }
    case 'ReplicaSet':
      setDefault(spec, 'replicas', 1);
      if (spec['template'] !== undefined) spec['template'] = defaultTemplate(spec['template']);
      result['spec'] = spec;
      break;
    case 'Service': {
      setDefault(spec, 'type', 'ClusterIP');
      setDefault(spec, 'sessionAffinity', 'None');
      if (Array.isArray(spec['ports'])) {
        spec['ports'] = (spec['ports'] as unknown[]).map((raw) => {
          const port = object(raw);
          setDefault(port, 'protocol', 'TCP');
          setDefault(port, 'targetPort', port['port']);
          return port;
        });
      }
      if (spec['type'] === 'NodePort' || spec['type'] === 'LoadBalancer')
        setDefault(spec, 'externalTrafficPolicy', 'Cluster');
      setDefault(spec, 'internalTrafficPolicy', 'Cluster');
      result['spec'] = spec;
      break;
    }
    case 'Secret':
      setDefault(result, 'type', 'Opaque');
      break;
    case 'Endpoints':
      if (Array.isArray(result['subsets'])) {
        result['subsets'] = result['subsets'].map((raw: unknown) => {
          const subset = object(raw);
          if (Array.isArray(subset['ports'])) {
            subset['ports'] = subset['ports'].map((port: unknown) => {
              const defaulted = object(port);
              setDefault(defaulted, 'protocol', 'TCP');
              return defaulted;
            });
          }
          return subset;
        });
      }
      break;
    case 'Namespace': {
      setDefault(spec, 'finalizers', ['kubernetes']);
      result['spec'] = spec;
      const status = object(result['status']);
      setDefault(status, 'phase', 'Active');
      result['status'] = status;
      break;
    }
    case 'HorizontalPodAutoscaler': {
      setDefault(spec, 'minReplicas', 1);
      // Kubernetes: an HPA without metrics scales on 80% average CPU utilization.
      if (spec['metrics'] === undefined || (Array.isArray(spec['metrics']) && spec['metrics'].length === 0)) {
        spec['metrics'] = [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
        ];
      }
      const behavior = object(spec['behavior']);
      behavior['scaleUp'] = defaultScalingRules(behavior['scaleUp'], DEFAULT_HPA_BEHAVIOR.scaleUp);
      behavior['scaleDown'] = defaultScalingRules(behavior['scaleDown'], DEFAULT_HPA_BEHAVIOR.scaleDown);
      spec['behavior'] = behavior;
      result['spec'] = spec;
      break;
    }
    default:
      break;
  }
  return result as T;
}
