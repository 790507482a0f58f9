// Table-driven: a valid manifest for every kind we serve, then one broken field at a time, with the
// cause Kubernetes reports for it (field path, reason, wording).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ConfigMap, Secret } from '../kinds/config.types';
import type { Deployment, ReplicaSet } from '../kinds/deployment.types';
import type { Event } from '../kinds/event.types';
import type { HorizontalPodAutoscaler } from '../kinds/hpa.types';
import type { Lease } from '../kinds/lease.types';
import type { Namespace } from '../kinds/namespace.types';
import type { Node } from '../kinds/node.types';
import type { Container, Pod, PodSpec } from '../kinds/pod.types';
import type { Endpoints, Service } from '../kinds/service.types';
import { applyDefaults } from '../defaults/apply-defaults';
import { pruneUnknownFields, validateObject, validateUpdate } from './validate-object';

type Json = Record<string, unknown>;

const container = (extra: Partial<Container> = {}): Container => ({
  name: 'app',
  image: 'nginx:1.27',
  ...extra,
});
const podSpec = (extra: Partial<PodSpec> = {}): PodSpec => ({ containers: [container()], ...extra });

// `satisfies` keeps the kind types honest: a field validation accepts but the types lack fails to compile.
const VALID: Record<string, object> = {
  Namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } } satisfies Namespace,
  Pod: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-0', namespace: 'default', labels: { app: 'web' } },
    spec: podSpec({
      containers: [
        container({
          ports: [{ name: 'http', containerPort: 80 }],
          env: [
            { name: 'MODE', value: 'prod' },
            { name: 'KEY', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
          ],
          envFrom: [{ configMapRef: { name: 'cfg' } }],
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: 1, memory: '128Mi' } },
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
          readinessProbe: { tcpSocket: { port: 80 } },
          startupProbe: { exec: { command: ['true'] } },
          lifecycle: { preStop: { exec: { command: ['sleep', '1'] } } },
          volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
          securityContext: { runAsUser: 1000, readOnlyRootFilesystem: true },
        }),
      ],
      initContainers: [container({ name: 'init', image: 'busybox' })],
      volumes: [
        { name: 'scratch', emptyDir: { sizeLimit: '1Gi' } },
        { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
        { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'a', path: 'a.txt' }] } },
        { name: 'sec', secret: { secretName: 's' } },
      ],
      restartPolicy: 'OnFailure',
      terminationGracePeriodSeconds: 10,
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
          },
        },
      },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
      hostname: 'web-0',
      dnsPolicy: 'ClusterFirst',
    }),
  } satisfies Pod,
  Service: {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: {
      type: 'NodePort',
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http', nodePort: 30080 },
        { name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP' },
      ],
    },
  } satisfies Service,
  Endpoints: {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'web' },
    subsets: [{ addresses: [{ ip: '10.0.0.5' }], ports: [{ name: 'http', port: 80 }] }],
  } satisfies Endpoints,
  Node: {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } },
    spec: { podCIDR: '10.244.1.0/24', unschedulable: false, taints: [{ key: 'gpu', effect: 'NoSchedule' }] },
    status: {
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '2', memory: '3900Mi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
    },
  } satisfies Node,
  ConfigMap: {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cfg' },
    data: { 'app.properties': 'a=b' },
    binaryData: { blob: 'AAEC' },
  } satisfies ConfigMap,
  Secret: {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's' },
    type: 'Opaque',
    data: { k: 'c2VjcmV0' },
    stringData: { plain: 'text' },
  } satisfies Secret,
  Event: {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web-0.17a', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web-0', namespace: 'default' },
    reason: 'Scheduled',
    message: 'Successfully assigned default/web-0 to node-1',
    type: 'Normal',
    count: 1,
    firstTimestamp: '2024-01-02T03:04:05Z',
    lastTimestamp: '2024-01-02T03:04:05Z',
    source: { component: 'scheduler' },
    reportingComponent: 'scheduler',
  } satisfies Event,
  Deployment: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '0%' } },
      minReadySeconds: 5,
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: 120,
      paused: false,
      template: { metadata: { labels: { app: 'web' } }, spec: podSpec() },
    },
  } satisfies Deployment,
  ReplicaSet: {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-5d4f' },
    spec: {
      replicas: 0,
      selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] },
      template: { metadata: { labels: { app: 'web' } }, spec: podSpec() },
    },
  } satisfies ReplicaSet,
  HorizontalPodAutoscaler: {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
        },
        {
          type: 'Pods',
          pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '100' } },
        },
      ],
      behavior: {
        scaleDown: {
          stabilizationWindowSeconds: 60,
          policies: [{ type: 'Pods', value: 1, periodSeconds: 30 }],
        },
      },
    },
  } satisfies HorizontalPodAutoscaler,
  Lease: {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'scheduler', namespace: 'kube-system' },
    spec: {
      holderIdentity: 'scheduler-1',
      leaseDurationSeconds: 15,
      renewTime: '2024-01-02T03:04:05.123456Z',
    },
  } satisfies Lease,
};

/** A copy of the valid manifest with one change: a path and a value (undefined deletes). */
function broken(kind: string, path: (string | number)[], value: unknown): Json {
  const copy = structuredClone(VALID[kind]) as Json;
  let target: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

function validate(kind: string, object: unknown) {
  return validateObject({ kind, object, fieldValidation: 'Strict' });
}

describe('validateObject: a valid manifest for every kind', () => {
  it.each(Object.keys(VALID))('%s has no causes and no unknown fields', (kind) => {
    expect(validate(kind, VALID[kind])).toEqual({ causes: [], unknownFields: [], warnings: [] });
  });

  it.each(Object.keys(VALID))('%s accepts generateName instead of name', (kind) => {
    const object = broken(kind, ['metadata', 'name'], undefined);
    (object['metadata'] as Json)['generateName'] = 'gen-';
    expect(validate(kind, object).causes).toEqual([]);
  });

  it.each(Object.keys(VALID))('%s requires a name or generateName', (kind) => {
    expect(validate(kind, broken(kind, ['metadata', 'name'], undefined)).causes).toContainEqual(
      expect.objectContaining({ field: 'metadata.name', reason: 'FieldValueRequired' }),
    );
  });
});

const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

describe('validateObject: one broken field at a time', () => {
  it.each<
    [string, string, (string | number)[], unknown, { field: string; reason: string; message?: string }]
  >([
    [
      'Pod',
      'a name that is no subdomain',
      ['metadata', 'name'],
      'Foo_Bar',
      {
        field: 'metadata.name',
        reason: 'FieldValueInvalid',
        message: `Invalid value: "Foo_Bar": ${SUBDOMAIN}`,
      },
    ],
    [
      'Namespace',
      'a namespace name with a dot (labels only)',
      ['metadata', 'name'],
      'team.a',
      { field: 'metadata.name', reason: 'FieldValueInvalid' },
    ],
    [
      'Service',
      'a service name starting with a digit (DNS-1035)',
      ['metadata', 'name'],
      '1web',
      { field: 'metadata.name', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'a label key with two slashes',
      ['metadata', 'labels'],
      { 'a/b/c': 'x' },
      { field: 'metadata.labels', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'a label value with a space',
      ['metadata', 'labels'],
      { app: 'a b' },
      { field: 'metadata.labels', reason: 'FieldValueInvalid' },
    ],
    [
      'ConfigMap',
      'annotations over 256 KiB',
      ['metadata', 'annotations'],
      { big: 'x'.repeat(256 * 1024 + 1) },
      { field: 'metadata.annotations', reason: 'FieldValueTooLong' },
    ],
    [
      'Pod',
      'no containers',
      ['spec', 'containers'],
      [],
      { field: 'spec.containers', reason: 'FieldValueRequired', message: 'Required value' },
    ],
    [
      'Pod',
      'a container without image',
      ['spec', 'containers', 0, 'image'],
      undefined,
      { field: 'spec.containers[0].image', reason: 'FieldValueRequired', message: 'Required value' },
    ],
    [
      'Pod',
      'a container name that is no label',
      ['spec', 'containers', 0, 'name'],
      'App',
      { field: 'spec.containers[0].name', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'two containers with one name',
      ['spec', 'initContainers', 0, 'name'],
      'app',
      { field: 'spec.containers[0].name', reason: 'FieldValueDuplicate', message: 'Duplicate value: "app"' },
    ],
    [
      'Pod',
      'a port out of range',
      ['spec', 'containers', 0, 'ports', 0, 'containerPort'],
      70000,
      { field: 'spec.containers[0].ports[0].containerPort', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'a port name that is no IANA_SVC_NAME',
      ['spec', 'containers', 0, 'ports', 0, 'name'],
      'http--web',
      { field: 'spec.containers[0].ports[0].name', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'a quantity that does not parse',
      ['spec', 'containers', 0, 'resources', 'requests', 'cpu'],
      'lots',
      { field: 'spec.containers[0].resources.requests', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'a negative quantity',
      ['spec', 'containers', 0, 'resources', 'limits', 'memory'],
      '-1Gi',
      { field: 'spec.containers[0].resources.limits', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'requests above limits',
      ['spec', 'containers', 0, 'resources', 'requests', 'cpu'],
      '2',
      { field: 'spec.containers[0].resources.requests', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'an unsupported restart policy',
      ['spec', 'restartPolicy'],
      'Sometimes',
      {
        field: 'spec.restartPolicy',
        reason: 'FieldValueNotSupported',
        message: 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      },
    ],
    [
      'Pod',
      'an unsupported pull policy',
      ['spec', 'containers', 0, 'imagePullPolicy'],
      'Sometimes',
      {
        field: 'spec.containers[0].imagePullPolicy',
        reason: 'FieldValueNotSupported',
        message: 'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
      },
    ],
    [
      'Pod',
      'a mount of a volume that does not exist',
      ['spec', 'containers', 0, 'volumeMounts', 0, 'name'],
      'nope',
      { field: 'spec.containers[0].volumeMounts[0].name', reason: 'FieldValueNotFound' },
    ],
    [
      'Pod',
      'an empty node selector term list',
      [
        'spec',
        'affinity',
        'nodeAffinity',
        'requiredDuringSchedulingIgnoredDuringExecution',
        'nodeSelectorTerms',
      ],
      [],
      {
        field: 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms',
        reason: 'FieldValueRequired',
      },
    ],
    [
      'Pod',
      'an unsupported toleration effect',
      ['spec', 'tolerations', 0, 'effect'],
      'Never',
      { field: 'spec.tolerations[0].effect', reason: 'FieldValueNotSupported' },
    ],
    [
      'Pod',
      'a negative grace period',
      ['spec', 'terminationGracePeriodSeconds'],
      -1,
      { field: 'spec.terminationGracePeriodSeconds', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'a string where an integer belongs',
      ['spec', 'terminationGracePeriodSeconds'],
      '30',
      { field: 'spec.terminationGracePeriodSeconds', reason: 'FieldValueTypeInvalid' },
    ],
    [
      'Pod',
      'a probe port out of range',
      ['spec', 'containers', 0, 'readinessProbe', 'tcpSocket', 'port'],
      0,
      { field: 'spec.containers[0].readinessProbe.tcpSocket.port', reason: 'FieldValueInvalid' },
    ],
    [
      'Service',
      'an unsupported type',
      ['spec', 'type'],
      'Internal',
      { field: 'spec.type', reason: 'FieldValueNotSupported' },
    ],
    [
      'Service',
      'a node port out of range',
      ['spec', 'ports', 0, 'nodePort'],
      80,
      { field: 'spec.ports[0].nodePort', reason: 'FieldValueInvalid' },
    ],
    [
      'Service',
      'a port number of 0',
      ['spec', 'ports', 1, 'port'],
      0,
      { field: 'spec.ports[1].port', reason: 'FieldValueInvalid' },
    ],
    [
      'Service',
      'two ports with one name',
      ['spec', 'ports', 1, 'name'],
      'http',
      { field: 'spec.ports[1].name', reason: 'FieldValueDuplicate' },
    ],
    [
      'Deployment',
      'negative replicas',
      ['spec', 'replicas'],
      -1,
      { field: 'spec.replicas', reason: 'FieldValueInvalid' },
    ],
    [
      'Deployment',
      'a selector that does not match the template',
      ['spec', 'selector', 'matchLabels'],
      { app: 'api' },
      { field: 'spec.template.metadata.labels', reason: 'FieldValueInvalid' },
    ],
    [
      'Deployment',
      'no selector',
      ['spec', 'selector'],
      undefined,
      { field: 'spec.selector', reason: 'FieldValueRequired' },
    ],
    [
      'Deployment',
      'maxSurge and maxUnavailable both 0',
      ['spec', 'strategy', 'rollingUpdate', 'maxSurge'],
      0,
      { field: 'spec.strategy.rollingUpdate.maxUnavailable', reason: 'FieldValueInvalid' },
    ],
    [
      'Deployment',
      'a malformed percentage',
      ['spec', 'strategy', 'rollingUpdate', 'maxSurge'],
      '25 percent',
      { field: 'spec.strategy.rollingUpdate.maxSurge', reason: 'FieldValueInvalid' },
    ],
    [
      'Deployment',
      'an unsupported strategy',
      ['spec', 'strategy', 'type'],
      'BlueGreen',
      { field: 'spec.strategy.type', reason: 'FieldValueNotSupported' },
    ],
    [
      'Deployment',
      'a template restart policy other than Always',
      ['spec', 'template', 'spec', 'restartPolicy'],
      'Never',
      { field: 'spec.template.spec.restartPolicy', reason: 'FieldValueNotSupported' },
    ],
    [
      'Deployment',
      'a template container without image',
      ['spec', 'template', 'spec', 'containers', 0, 'image'],
      undefined,
      { field: 'spec.template.spec.containers[0].image', reason: 'FieldValueRequired' },
    ],
    [
      'ReplicaSet',
      'an unsupported selector operator',
      ['spec', 'selector', 'matchExpressions', 0, 'operator'],
      'Like',
      { field: 'spec.selector.matchExpressions[0].operator', reason: 'FieldValueNotSupported' },
    ],
    [
      'HorizontalPodAutoscaler',
      'minReplicas of 0',
      ['spec', 'minReplicas'],
      0,
      { field: 'spec.minReplicas', reason: 'FieldValueInvalid' },
    ],
    [
      'HorizontalPodAutoscaler',
      'maxReplicas below minReplicas',
      ['spec', 'minReplicas'],
      6,
      { field: 'spec.maxReplicas', reason: 'FieldValueInvalid' },
    ],
    [
      'HorizontalPodAutoscaler',
      'an unsupported metric type',
      ['spec', 'metrics', 0, 'type'],
      'Magic',
      { field: 'spec.metrics[0].type', reason: 'FieldValueNotSupported' },
    ],
    [
      'HorizontalPodAutoscaler',
      'a policy period over 30 minutes',
      ['spec', 'behavior', 'scaleDown', 'policies', 0, 'periodSeconds'],
      1801,
      { field: 'spec.behavior.scaleDown.policies[0].periodSeconds', reason: 'FieldValueInvalid' },
    ],
    [
      'HorizontalPodAutoscaler',
      'a target value that is no quantity',
      ['spec', 'metrics', 1, 'pods', 'target', 'averageValue'],
      'many',
      { field: 'spec.metrics[1].pods.target.averageValue', reason: 'FieldValueInvalid' },
    ],
    [
      'Node',
      'an unsupported taint effect',
      ['spec', 'taints', 0, 'effect'],
      'Sometimes',
      { field: 'spec.taints[0].effect', reason: 'FieldValueNotSupported' },
    ],
    [
      'Event',
      'no involved object',
      ['involvedObject'],
      undefined,
      { field: 'involvedObject', reason: 'FieldValueRequired' },
    ],
    [
      'Event',
      'an unsupported event type',
      ['type'],
      'Info',
      { field: 'type', reason: 'FieldValueNotSupported' },
    ],
    [
      'Lease',
      'a zero lease duration',
      ['spec', 'leaseDurationSeconds'],
      0,
      { field: 'spec.leaseDurationSeconds', reason: 'FieldValueInvalid' },
    ],
    [
      'ConfigMap',
      'a data value that is no string',
      ['data', 'app.properties'],
      5,
      { field: 'data', reason: 'FieldValueInvalid' },
    ],
    [
      'ConfigMap',
      'a key with a slash',
      ['data', 'a/b'],
      'x',
      { field: 'data[a/b]', reason: 'FieldValueInvalid' },
    ],
    [
      'ConfigMap',
      'a key in both data and binaryData',
      ['binaryData', 'app.properties'],
      'AAEC',
      {
        field: 'binaryData[app.properties]',
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "app.properties": duplicate of key present in data',
      },
    ],
    [
      'ConfigMap',
      'binaryData that is not base64',
      ['binaryData', 'blob'],
      'not base64!',
      { field: 'binaryData[blob]', reason: 'FieldValueInvalid' },
    ],
    [
      'Secret',
      'data that is not base64',
      ['data', 'k'],
      'secret',
      { field: 'data[k]', reason: 'FieldValueInvalid' },
    ],
    [
      'Secret',
      'a TLS secret without its key',
      ['type'],
      'kubernetes.io/tls',
      { field: 'data[tls.crt]', reason: 'FieldValueRequired' },
    ],
    [
      'Secret',
      'more than 1 MiB of data',
      ['stringData', 'big'],
      'x'.repeat(1024 * 1024 + 1),
      { field: 'data', reason: 'FieldValueTooLong' },
    ],
    [
      'Pod',
      'a probe without a handler',
      ['spec', 'containers', 0, 'livenessProbe'],
      { periodSeconds: 5 },
      {
        field: 'spec.containers[0].livenessProbe',
        reason: 'FieldValueRequired',
        message: 'Required value: must specify a handler type',
      },
    ],
    [
      'Pod',
      'a probe with two handlers',
      ['spec', 'containers', 0, 'readinessProbe'],
      { tcpSocket: { port: 80 }, exec: { command: ['true'] } },
      { field: 'spec.containers[0].readinessProbe.tcpSocket', reason: 'FieldValueForbidden' },
    ],
    [
      'Pod',
      'a volume without a source',
      ['spec', 'volumes', 0, 'emptyDir'],
      undefined,
      {
        field: 'spec.volumes[0]',
        reason: 'FieldValueRequired',
        message: 'Required value: must specify a volume type',
      },
    ],
    [
      'Pod',
      'a volume with two sources',
      ['spec', 'volumes', 0, 'hostPath'],
      { path: '/tmp' },
      { field: 'spec.volumes[0].hostPath', reason: 'FieldValueForbidden' },
    ],
    [
      'Pod',
      'an env var name starting with a digit',
      ['spec', 'containers', 0, 'env', 0, 'name'],
      '1MODE',
      { field: 'spec.containers[0].env[0].name', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'an env var with value and valueFrom',
      ['spec', 'containers', 0, 'env', 1, 'value'],
      'x',
      { field: 'spec.containers[0].env[1].valueFrom', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'an init container with a probe',
      ['spec', 'initContainers', 0, 'readinessProbe'],
      { exec: { command: ['true'] } },
      { field: 'spec.initContainers[0].readinessProbe', reason: 'FieldValueForbidden' },
    ],
    [
      'Pod',
      'a resource name that is neither standard nor qualified',
      ['spec', 'containers', 0, 'resources', 'limits', 'cpus'],
      '1',
      { field: 'spec.containers[0].resources.limits[cpus]', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'a toleration without key that is not Exists',
      ['spec', 'tolerations', 0, 'key'],
      undefined,
      { field: 'spec.tolerations[0].operator', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'tolerationSeconds without NoExecute',
      ['spec', 'tolerations', 0, 'tolerationSeconds'],
      30,
      { field: 'spec.tolerations[0].effect', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'a node name that is no subdomain',
      ['spec', 'nodeName'],
      'Node_1',
      { field: 'spec.nodeName', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'a node selector value with a space',
      ['spec', 'nodeSelector', 'kubernetes.io/os'],
      'linux os',
      { field: 'spec.nodeSelector[kubernetes.io/os]', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'dnsPolicy None without dnsConfig',
      ['spec', 'dnsPolicy'],
      'None',
      { field: 'spec.dnsConfig', reason: 'FieldValueRequired' },
    ],
    [
      'Deployment',
      'a progress deadline not above minReadySeconds',
      ['spec', 'progressDeadlineSeconds'],
      5,
      {
        field: 'spec.progressDeadlineSeconds',
        reason: 'FieldValueInvalid',
        message: 'Invalid value: 5: must be greater than minReadySeconds',
      },
    ],
    [
      'Deployment',
      'a template probe without a handler',
      ['spec', 'template', 'spec', 'containers', 0, 'livenessProbe'],
      {},
      { field: 'spec.template.spec.containers[0].livenessProbe', reason: 'FieldValueRequired' },
    ],
    [
      'Service',
      'a cluster IP that is no IP',
      ['spec', 'clusterIP'],
      '10.0.0.300',
      { field: 'spec.clusterIP', reason: 'FieldValueInvalid' },
    ],
    [
      'Service',
      'a headless NodePort service',
      ['spec', 'clusterIP'],
      'None',
      { field: 'spec.clusterIP', reason: 'FieldValueInvalid' },
    ],
    [
      'Service',
      'an ExternalName service without externalName',
      ['spec', 'type'],
      'ExternalName',
      { field: 'spec.externalName', reason: 'FieldValueRequired' },
    ],
    [
      'Service',
      'one port and protocol twice',
      ['spec', 'ports', 1, 'port'],
      80,
      { field: 'spec.ports[1]', reason: 'FieldValueDuplicate' },
    ],
    [
      'Service',
      'one node port twice',
      ['spec', 'ports', 1, 'nodePort'],
      30080,
      { field: 'spec.ports[1].nodePort', reason: 'FieldValueDuplicate' },
    ],
    [
      'Service',
      'a selector value with a slash',
      ['spec', 'selector', 'app'],
      'a/b',
      { field: 'spec.selector[app]', reason: 'FieldValueInvalid' },
    ],
    [
      'HorizontalPodAutoscaler',
      'a metric without its source',
      ['spec', 'metrics', 0, 'resource'],
      undefined,
      { field: 'spec.metrics[0].resource', reason: 'FieldValueRequired' },
    ],
    [
      'HorizontalPodAutoscaler',
      'a metric with a second source',
      ['spec', 'metrics', 0, 'pods'],
      { metric: { name: 'x' }, target: { type: 'Value', value: '1' } },
      { field: 'spec.metrics[0].pods', reason: 'FieldValueForbidden' },
    ],
    [
      'HorizontalPodAutoscaler',
      'a Utilization target without averageUtilization',
      ['spec', 'metrics', 0, 'resource', 'target', 'averageUtilization'],
      undefined,
      { field: 'spec.metrics[0].resource.target.averageUtilization', reason: 'FieldValueRequired' },
    ],
    [
      'HorizontalPodAutoscaler',
      'an empty policy list',
      ['spec', 'behavior', 'scaleDown', 'policies'],
      [],
      { field: 'spec.behavior.scaleDown.policies', reason: 'FieldValueRequired' },
    ],
    [
      'HorizontalPodAutoscaler',
      'an empty target name',
      ['spec', 'scaleTargetRef', 'name'],
      '',
      { field: 'spec.scaleTargetRef.name', reason: 'FieldValueRequired' },
    ],
    [
      'Node',
      'a taint key with two slashes',
      ['spec', 'taints', 0, 'key'],
      'a/b/c',
      { field: 'spec.taints[0].key', reason: 'FieldValueInvalid' },
    ],
    [
      'Node',
      'a pod CIDR that is no CIDR',
      ['spec', 'podCIDR'],
      '10.244.1.0',
      { field: 'spec.podCIDR', reason: 'FieldValueInvalid' },
    ],
    [
      'Endpoints',
      'an address that is no IP',
      ['subsets', 0, 'addresses', 0, 'ip'],
      'web-0',
      { field: 'subsets[0].addresses[0].ip', reason: 'FieldValueInvalid' },
    ],
    [
      'ConfigMap',
      'a generateName with an underscore',
      ['metadata', 'generateName'],
      'cfg_',
      { field: 'metadata.generateName', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'a namespace that is no label',
      ['metadata', 'namespace'],
      'Team.A',
      { field: 'metadata.namespace', reason: 'FieldValueInvalid' },
    ],
    [
      'Pod',
      'an annotation key with a space',
      ['metadata', 'annotations'],
      { 'my note': 'x' },
      { field: 'metadata.annotations', reason: 'FieldValueInvalid' },
    ],
  ])('%s with %s', (kind, _what, path, value, expected) => {
    expect(validate(kind, broken(kind, path, value)).causes).toContainEqual(
      expect.objectContaining(expected),
    );
  });
});

describe('validateObject: the manifests we ship', () => {
  const directory = join(__dirname, '..', '..', '..', '..', 'manifests', 'web');
  const documents = readdirSync(directory)
    .filter((file) => /\.ya?ml$/.test(file))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(directory, file), 'utf8')).map((document) => ({
        file,
        object: document.toJS() as Json,
      })),
    )
    .filter(({ object }) => object !== null);

  it.each(documents.map(({ file, object }) => [`${file}: ${String(object['kind'])}`, object] as const))(
    '%s validates cleanly, before and after defaults',
    (_name, object) => {
      const kind = String(object['kind']);
      expect(validate(kind, object)).toEqual({ causes: [], unknownFields: [], warnings: [] });
      expect(validate(kind, applyDefaults(kind, object))).toEqual({
        causes: [],
        unknownFields: [],
        warnings: [],
      });
    },
  );
});

describe('validateObject: subresource bodies and operations', () => {
  it('validates a Scale and a Binding', () => {
    const scale = {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'web' },
      spec: { replicas: 3 },
    };
    expect(validate('Scale', scale)).toEqual({ causes: [], unknownFields: [], warnings: [] });
    expect(validate('Scale', { ...scale, spec: { replicas: -1 } }).causes).toContainEqual(
      expect.objectContaining({ field: 'spec.replicas', reason: 'FieldValueInvalid' }),
    );
    const binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'web-0' },
      target: { kind: 'Node', name: 'node-1' },
    };
    expect(validate('Binding', binding).causes).toEqual([]);
    expect(validate('Binding', { ...binding, target: undefined }).causes).toContainEqual(
      expect.objectContaining({ field: 'target', reason: 'FieldValueRequired' }),
    );
  });

  it('accepts creationTimestamp: null in a template, as kubectl create --dry-run -o yaml writes it', () => {
    const object = broken('Deployment', ['spec', 'template', 'metadata', 'creationTimestamp'], null);
    expect(validate('Deployment', object)).toEqual({ causes: [], unknownFields: [], warnings: [] });
  });

  it('lets only a create leave the name to generateName', () => {
    const object = broken('ConfigMap', ['metadata', 'name'], undefined);
    (object['metadata'] as Json)['generateName'] = 'cfg-';
    expect(
      validateObject({ kind: 'ConfigMap', object, operation: 'create', fieldValidation: 'Strict' }).causes,
    ).toEqual([]);
    expect(
      validateObject({ kind: 'ConfigMap', object, operation: 'update', fieldValidation: 'Strict' }).causes,
    ).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value: name is required', field: 'metadata.name' },
    ]);
  });

  it('refuses a kind it does not know, and a body that is no object', () => {
    expect(validate('CronJob', {}).causes).toContainEqual(
      expect.objectContaining({ field: 'kind', reason: 'FieldValueNotSupported' }),
    );
    expect(validate('Pod', 'pod').causes).toContainEqual(
      expect.objectContaining({ reason: 'FieldValueTypeInvalid' }),
    );
  });
});

describe('validateObject: keys that are JavaScript object machinery', () => {
  it('judges a "constructor" label like any other, also when the rest of the object is invalid', () => {
    const object = JSON.parse(
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","labels":{"constructor":"y","prototype":"z"}},"data":{"a":1}}',
    ) as unknown;
    const result = validateObject({
      kind: 'ConfigMap',
      object,
      operation: 'create',
      fieldValidation: 'Strict',
    });
    expect(result.causes.map((cause) => cause.field)).toEqual(['data']);
    expect(result.unknownFields).toEqual([]);
  });

  it('names a "__proto__" field as unknown instead of letting it through', () => {
    const object = JSON.parse(
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"b"},"__proto__":{"polluted":true}}',
    ) as unknown;
    const result = validateObject({
      kind: 'ConfigMap',
      object,
      operation: 'create',
      fieldValidation: 'Strict',
    });
    expect(result.unknownFields).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('validateObject: unknown fields', () => {
  const withUnknown = (): Json => {
    const object = structuredClone(VALID['Deployment']) as Json;
    object['spek'] = {};
    const spec = object['spec'] as Json;
    spec['replika'] = 1;
    const template = spec['template'] as { spec: { containers: Json[] }; metadata: Json };
    template.metadata['labelz'] = {};
    (template.spec.containers[0] as Json)['imagePolicy'] = 'x';
    return object;
  };
  const ALL = [
    'spek',
    'spec.replika',
    'spec.template.metadata.labelz',
    'spec.template.spec.containers[0].imagePolicy',
  ];

  it('Strict names every unknown field with its full path, not just the first', () => {
    const result = validateObject({ kind: 'Deployment', object: withUnknown(), fieldValidation: 'Strict' });
    expect([...result.unknownFields].sort()).toEqual([...ALL].sort());
    expect(result.warnings).toEqual([]);
  });

  it('Warn turns each into a warning', () => {
    const result = validateObject({ kind: 'Deployment', object: withUnknown(), fieldValidation: 'Warn' });
    expect([...result.warnings].sort()).toEqual(ALL.map((field) => `unknown field "${field}"`).sort());
  });

  it('Ignore leaves them to pruneUnknownFields, which strips exactly those', () => {
    const object = withUnknown();
    const result = validateObject({ kind: 'Deployment', object, fieldValidation: 'Ignore' });
    expect(result.warnings).toEqual([]);
    expect(pruneUnknownFields(object, result.unknownFields)).toEqual(VALID['Deployment']);
    expect(object['spek']).toEqual({});
  });
});

describe('validateUpdate', () => {
  it.each<[string, string, (string | number)[], unknown, string]>([
    ['Deployment', 'the selector', ['spec', 'selector'], { matchLabels: { app: 'api' } }, 'spec.selector'],
    ['ReplicaSet', 'the selector', ['spec', 'selector'], { matchLabels: { app: 'api' } }, 'spec.selector'],
    ['Pod', 'a container command', ['spec', 'containers', 0, 'command'], ['sh'], 'spec'],
    ['Pod', 'the restart policy', ['spec', 'restartPolicy'], 'Never', 'spec'],
  ])('%s refuses a change to %s', (kind, _what, path, value, field) => {
    const causes = validateUpdate({ kind, old: VALID[kind], updated: broken(kind, path, value) });
    expect(causes).toContainEqual(expect.objectContaining({ field }));
  });

  it.each<[string, string, (string | number)[], unknown]>([
    ['Pod', 'a container image', ['spec', 'containers', 0, 'image'], 'nginx:1.28'],
    ['Pod', 'activeDeadlineSeconds', ['spec', 'activeDeadlineSeconds'], 60],
    ['Deployment', 'replicas', ['spec', 'replicas'], 7],
    ['Service', 'the selector', ['spec', 'selector'], { app: 'api' }],
    ['ConfigMap', 'data of a mutable map', ['data'], { other: 'x' }],
  ])('%s allows a change to %s', (kind, _what, path, value) => {
    expect(validateUpdate({ kind, old: VALID[kind], updated: broken(kind, path, value) })).toEqual([]);
  });

  it('lets a pod gain tolerations and change init images, but not lose a toleration or its node', () => {
    const pod = VALID['Pod'] as { spec: { tolerations: Json[]; initContainers: Json[] } };
    const added = broken('Pod', ['spec', 'tolerations', 1], { key: 'new', operator: 'Exists' });
    expect(validateUpdate({ kind: 'Pod', old: pod, updated: added })).toEqual([]);
    expect(
      validateUpdate({
        kind: 'Pod',
        old: pod,
        updated: broken('Pod', ['spec', 'initContainers', 0, 'image'], 'busybox:2'),
      }),
    ).toEqual([]);
    expect(validateUpdate({ kind: 'Pod', old: added, updated: pod })).toContainEqual(
      expect.objectContaining({ field: 'spec.tolerations', reason: 'FieldValueForbidden' }),
    );
    const bound = broken('Pod', ['spec', 'nodeName'], 'node-1');
    expect(validateUpdate({ kind: 'Pod', old: pod, updated: bound })).toEqual([]);
    expect(
      validateUpdate({ kind: 'Pod', old: bound, updated: broken('Pod', ['spec', 'nodeName'], 'node-2') }),
    ).toContainEqual(expect.objectContaining({ field: 'spec.nodeName' }));
  });

  it('keeps immutable maps immutable, secret types and node pod CIDRs fixed', () => {
    const frozen = broken('ConfigMap', ['immutable'], true);
    expect(
      validateUpdate({ kind: 'ConfigMap', old: frozen, updated: broken('ConfigMap', ['immutable'], false) }),
    ).toContainEqual(expect.objectContaining({ field: 'immutable' }));
    expect(
      validateUpdate({
        kind: 'Secret',
        old: VALID['Secret'],
        updated: broken('Secret', ['type'], 'kubernetes.io/basic-auth'),
      }),
    ).toContainEqual(expect.objectContaining({ field: 'type' }));
    expect(
      validateUpdate({
        kind: 'Node',
        old: VALID['Node'],
        updated: broken('Node', ['spec', 'podCIDR'], '10.244.2.0/24'),
      }),
    ).toContainEqual(expect.objectContaining({ field: 'spec.podCIDR' }));
    expect(
      validateUpdate({
        kind: 'Node',
        old: broken('Node', ['spec', 'podCIDR'], undefined),
        updated: VALID['Node'],
      }),
    ).toEqual([]);
  });

  it('refuses a new cluster IP and changes to an immutable ConfigMap or Secret', () => {
    const service = broken('Service', ['spec', 'clusterIP'], '10.96.0.10');
    expect(
      validateUpdate({
        kind: 'Service',
        old: service,
        updated: broken('Service', ['spec', 'clusterIP'], '10.96.0.11'),
      }),
    ).toContainEqual(expect.objectContaining({ field: 'spec.clusterIP' }));
    for (const kind of ['ConfigMap', 'Secret']) {
      const old = broken(kind, ['immutable'], true);
      const updated = broken(kind, ['data'], { changed: 'eA==' });
      updated['immutable'] = true;
      expect(validateUpdate({ kind, old, updated })).toContainEqual(
        expect.objectContaining({ field: 'data' }),
      );
    }
  });
});

describe('validateObject never throws on hostile input', () => {
  /** Every path in a manifest, objects and arrays included. */
  function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
    if (Array.isArray(value))
      return [prefix, ...value.flatMap((item, index) => paths(item, [...prefix, index]))];
    if (typeof value === 'object' && value !== null) {
      return [prefix, ...Object.entries(value).flatMap(([key, item]) => paths(item, [...prefix, key]))];
    }
    return [prefix];
  }
  const WRONG_VALUES: unknown[] = [null, 7, 'text', {}, [null]];

  it.each(Object.keys(VALID))(
    '%s: any field replaced by a value of the wrong type gives causes, not a crash',
    (kind) => {
      const crashes: string[] = [];
      for (const path of paths(VALID[kind]).filter((path) => path.length > 0)) {
        for (const value of WRONG_VALUES) {
          try {
            const result = validate(kind, broken(kind, path, value));
            applyDefaults(kind, broken(kind, path, value));
            validateUpdate({ kind, old: VALID[kind], updated: broken(kind, path, value) });
            expect(Array.isArray(result.causes)).toBe(true);
          } catch (error) {
            crashes.push(`${path.join('.')} = ${JSON.stringify(value)}: ${String(error)}`);
          }
        }
      }
      expect(crashes).toEqual([]);
    },
    30_000,
  );
});
