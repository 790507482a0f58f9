// The columns `get` prints per kind, the same ones kubectl prints, so people read our tables at a glance.
import type { KubeObject, ResourceType } from '@flotilla/api';
import { ageOf } from './human-duration';
import type { Table } from './table.printer';

interface Columns {
  readonly headers: readonly string[];
  readonly wideHeaders: readonly string[];
  /** Cells after NAME (and before the wide ones). */
  readonly cells: (object: KubeObject, now: Date) => string[];
  readonly wideCells: (object: KubeObject) => string[];
  /** Events have no NAME column in kubectl. */
  readonly hideName?: boolean;
}

export interface TableOptions {
  readonly wide: boolean;
  readonly now: Date;
  readonly withNamespace: boolean;
  /** Prefix names with "deployment.apps/" when several kinds share one output. */
  readonly withKind: boolean;
}

export function resourceTable(
  type: ResourceType,
  objects: readonly KubeObject[],
  options: TableOptions,
): Table {
  const columns = COLUMNS[type.kind] ?? DEFAULT_COLUMNS;
  const headers = [
    ...(options.withNamespace ? ['NAMESPACE'] : []),
    ...(columns.hideName ? [] : ['NAME']),
    ...columns.headers,
    ...(options.wide ? columns.wideHeaders : []),
  ];
  const rows = objects.map((object) => [
    ...(options.withNamespace ? [object.metadata.namespace ?? ''] : []),
    ...(columns.hideName
      ? []
      : [options.withKind ? qualifiedName(type, object) : (object.metadata.name ?? '')]),
    ...columns.cells(object, options.now),
    ...(options.wide ? columns.wideCells(object) : []),
  ]);
  return { headers, rows };
}

/** "deployment.apps/web", "pod/web-1": what kubectl prints for `-o name` and in apply output. */
export function qualifiedName(type: ResourceType, object: Pick<KubeObject, 'metadata'>): string {
  return `${resourceLabel(type)}/${object.metadata.name ?? ''}`;
}

/** "deployment.apps", "pod": a type as kubectl names it in messages. */
export function resourceLabel(type: ResourceType): string {
  return type.group === '' ? type.singular : `${type.singular}.${type.group}`;
}

export function podStatus(pod: KubeObject): string {
  let reason = str(at(pod, 'status', 'reason')) || str(at(pod, 'status', 'phase')) || 'Pending';
  const statuses = list(at(pod, 'status', 'containerStatuses'));
  let running = false;
  for (const status of [...statuses].reverse()) {
    const waiting = str(at(status, 'state', 'waiting', 'reason'));
    const terminated = at(status, 'state', 'terminated');
    if (waiting) reason = waiting;
    else if (terminated !== undefined) {
      reason =
        str(at(terminated, 'reason')) ||
        (num(at(terminated, 'signal'))
          ? `Signal:${num(at(terminated, 'signal'))}`
          : `ExitCode:${num(at(terminated, 'exitCode'))}`);
    } else if (at(status, 'state', 'running') !== undefined && at(status, 'ready') === true) running = true;
  }
  if (reason === 'Completed' && running) reason = 'Running';
  if (pod.metadata.deletionTimestamp !== undefined) reason = 'Terminating';
  return reason;
}

const DEFAULT_COLUMNS: Columns = {
  headers: ['AGE'],
  wideHeaders: [],
  cells: (object, now) => [ageOf(object.metadata.creationTimestamp, now)],
  wideCells: () => [],
};

const workloadWide = (object: KubeObject): string[] => {
  const containers = list(at(object, 'spec', 'template', 'spec', 'containers'));
  return [
    joinOrNone(containers.map((c) => str(at(c, 'name')))),
    joinOrNone(containers.map((c) => str(at(c, 'image')))),
    selectorText(at(object, 'spec', 'selector')),
  ];
};

const COLUMNS: Record<string, Columns> = {
  Pod: {
    headers: ['READY', 'STATUS', 'RESTARTS', 'AGE'],
    wideHeaders: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    cells: (pod, now) => {
      const statuses = list(at(pod, 'status', 'containerStatuses'));
      const total = list(at(pod, 'spec', 'containers')).length;
      const ready = statuses.filter((s) => at(s, 'ready') === true).length;
      const restarts = statuses.reduce<number>((sum, s) => sum + num(at(s, 'restartCount')), 0);
      return [
        `${ready}/${total}`,
        podStatus(pod),
        String(restarts),
        ageOf(pod.metadata.creationTimestamp, now),
      ];
    },
    wideCells: (pod) => [
      str(at(pod, 'status', 'podIP')) || '<none>',
      str(at(pod, 'spec', 'nodeName')) || '<none>',
      str(at(pod, 'status', 'nominatedNodeName')) || '<none>',
      '<none>',
    ],
  },
  Deployment: {
    headers: ['READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    wideHeaders: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    cells: (deployment, now) => [
      `${num(at(deployment, 'status', 'readyReplicas'))}/${num(at(deployment, 'spec', 'replicas'), 1)}`,
      String(num(at(deployment, 'status', 'updatedReplicas'))),
      String(num(at(deployment, 'status', 'availableReplicas'))),
      ageOf(deployment.metadata.creationTimestamp, now),
    ],
    wideCells: workloadWide,
  },
  ReplicaSet: {
    headers: ['DESIRED', 'CURRENT', 'READY', 'AGE'],
    wideHeaders: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    cells: (replicaSet, now) => [
      String(num(at(replicaSet, 'spec', 'replicas'), 1)),
      String(num(at(replicaSet, 'status', 'replicas'))),
      String(num(at(replicaSet, 'status', 'readyReplicas'))),
      ageOf(replicaSet.metadata.creationTimestamp, now),
    ],
    wideCells: workloadWide,
  },
  Service: {
    headers: ['TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wideHeaders: ['SELECTOR'],
    cells: (service, now) => {
      const type = str(at(service, 'spec', 'type')) || 'ClusterIP';
      const external = list(at(service, 'spec', 'externalIPs')).map((ip) => str(ip));
      const ports = list(at(service, 'spec', 'ports')).map((port) => {
        const nodePort = num(at(port, 'nodePort'));
        const protocol = str(at(port, 'protocol')) || 'TCP';
        return `${num(at(port, 'port'))}${nodePort ? `:${nodePort}` : ''}/${protocol}`;
      });
      return [
        type,
        str(at(service, 'spec', 'clusterIP')) || '<none>',
        external.length > 0 ? external.join(',') : type === 'LoadBalancer' ? '<pending>' : '<none>',
        joinOrNone(ports),
        ageOf(service.metadata.creationTimestamp, now),
      ];
    },
    wideCells: (service) => [mapText(at(service, 'spec', 'selector'))],
  },
  Namespace: {
    headers: ['STATUS', 'AGE'],
    wideHeaders: [],
    cells: (namespace, now) => [
      str(at(namespace, 'status', 'phase')) || 'Active',
      ageOf(namespace.metadata.creationTimestamp, now),
    ],
    wideCells: () => [],
  },
  Node: {
    headers: ['STATUS', 'ROLES', 'AGE', 'VERSION'],
    wideHeaders: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
    cells: (node, now) => {
      const ready = list(at(node, 'status', 'conditions')).find((c) => at(c, 'type') === 'Ready');
      let status = at(ready, 'status') === 'True' ? 'Ready' : ready === undefined ? 'Unknown' : 'NotReady';
      if (at(node, 'spec', 'unschedulable') === true) status += ',SchedulingDisabled';
      const roles = Object.keys(node.metadata.labels ?? {})
        .filter((label) => label.startsWith('node-role.kubernetes.io/'))
        .map((label) => label.slice('node-role.kubernetes.io/'.length));
      return [
        status,
        joinOrNone(roles),
        ageOf(node.metadata.creationTimestamp, now),
        str(at(node, 'status', 'nodeInfo', 'kubeletVersion')) || '<none>',
      ];
    },
    wideCells: (node) => {
      const addresses = list(at(node, 'status', 'addresses'));
      const address = (type: string): string =>
        str(
          at(
            addresses.find((a) => at(a, 'type') === type),
            'address',
          ),
        ) || '<none>';
      return [
        address('InternalIP'),
        address('ExternalIP'),
        str(at(node, 'status', 'nodeInfo', 'osImage')) || '<unknown>',
        str(at(node, 'status', 'nodeInfo', 'kernelVersion')) || '<unknown>',
        str(at(node, 'status', 'nodeInfo', 'containerRuntimeVersion')) || '<unknown>',
      ];
    },
  },
  ConfigMap: {
    headers: ['DATA', 'AGE'],
    wideHeaders: [],
    cells: (configMap, now) => [
      String(keyCount(at(configMap, 'data')) + keyCount(at(configMap, 'binaryData'))),
      ageOf(configMap.metadata.creationTimestamp, now),
    ],
    wideCells: () => [],
  },
  Secret: {
    headers: ['TYPE', 'DATA', 'AGE'],
    wideHeaders: [],
    cells: (secret, now) => [
      str(at(secret, 'type')) || 'Opaque',
      String(keyCount(at(secret, 'data')) + keyCount(at(secret, 'stringData'))),
      ageOf(secret.metadata.creationTimestamp, now),
    ],
    wideCells: () => [],
  },
  Endpoints: {
    headers: ['ENDPOINTS', 'AGE'],
    wideHeaders: [],
    cells: (endpoints, now) => {
      const pairs = list(at(endpoints, 'subsets')).flatMap((subset) => {
        const ports = list(at(subset, 'ports')).map((p) => num(at(p, 'port')));
        return list(at(subset, 'addresses')).flatMap((address) => {
          const ip = str(at(address, 'ip'));
          return ports.length === 0 ? [ip] : ports.map((port) => `${ip}:${port}`);
        });
      });
      const shown = pairs.slice(0, 3).join(',');
      const more = pairs.length > 3 ? ` + ${pairs.length - 3} more...` : '';
      return [pairs.length === 0 ? '<none>' : shown + more, ageOf(endpoints.metadata.creationTimestamp, now)];
    },
    wideCells: () => [],
  },
  Event: {
    hideName: true,
    headers: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    wideHeaders: [],
    cells: (event, now) => [
      ageOf(eventTime(event), now),
      str(at(event, 'type')),
      str(at(event, 'reason')),
      `${str(at(event, 'involvedObject', 'kind')).toLowerCase()}/${str(at(event, 'involvedObject', 'name'))}`,
      str(at(event, 'message')).replace(/\s*\n\s*/g, ' '),
    ],
    wideCells: () => [],
  },
  HorizontalPodAutoscaler: {
    headers: ['REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE'],
    wideHeaders: [],
    cells: (hpa, now) => {
      const current = list(at(hpa, 'status', 'currentMetrics'));
      const targets = list(at(hpa, 'spec', 'metrics')).map((metric) => {
        const name = str(at(metric, 'resource', 'name'));
        const observed = current.find((c) => str(at(c, 'resource', 'name')) === name);
        // As kubectl: "cpu: 45%/50%" for utilization targets, "memory: 90Mi/100Mi" for average values.
        if (str(at(metric, 'resource', 'target', 'type')) === 'AverageValue') {
          const value = str(at(observed, 'resource', 'current', 'averageValue')) || '<unknown>';
          return `${name}: ${value}/${str(at(metric, 'resource', 'target', 'averageValue'))}`;
        }
        const target = num(at(metric, 'resource', 'target', 'averageUtilization'));
        const value = at(observed, 'resource', 'current', 'averageUtilization');
        return `${name}: ${typeof value === 'number' ? `${value}%` : '<unknown>'}/${target}%`;
      });
      return [
        `${str(at(hpa, 'spec', 'scaleTargetRef', 'kind'))}/${str(at(hpa, 'spec', 'scaleTargetRef', 'name'))}`,
        // kubectl separates metrics with ", " here, unlike the other list columns.
        targets.length === 0 ? '<none>' : targets.join(', '),
        String(num(at(hpa, 'spec', 'minReplicas'), 1)),
        String(num(at(hpa, 'spec', 'maxReplicas'))),
        String(num(at(hpa, 'status', 'currentReplicas'))),
        ageOf(hpa.metadata.creationTimestamp, now),
      ];
    },
    wideCells: () => [],
  },
  Lease: {
    headers: ['HOLDER', 'AGE'],
    wideHeaders: [],
    cells: (lease, now) => [
      str(at(lease, 'spec', 'holderIdentity')),
      ageOf(lease.metadata.creationTimestamp, now),
    ],
    wideCells: () => [],
  },
};

export function eventTime(event: KubeObject): string | undefined {
  return (
    str(at(event, 'lastTimestamp')) ||
    str(at(event, 'eventTime')) ||
    str(at(event, 'firstTimestamp')) ||
    event.metadata.creationTimestamp
  );
}

/** Reads a nested field of unknown data without trusting its shape. */
export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

export function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function keyCount(value: unknown): number {
  return typeof value === 'object' && value !== null ? Object.keys(value).length : 0;
}

function joinOrNone(values: readonly string[]): string {
  const present = values.filter((value) => value !== '');
  return present.length === 0 ? '<none>' : present.join(',');
}

function mapText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return '<none>';
  const pairs = Object.entries(value).map(([key, v]) => `${key}=${str(v)}`);
  return joinOrNone(pairs);
}

function selectorText(selector: unknown): string {
  const labels = Object.entries(
    (at(selector, 'matchLabels') as Record<string, unknown> | undefined) ?? {},
  ).map(([key, value]) => `${key}=${str(value)}`);
  const expressions = list(at(selector, 'matchExpressions')).map((expression) => {
    const key = str(at(expression, 'key'));
    const operator = str(at(expression, 'operator'));
    const values = list(at(expression, 'values')).map(str).join(',');
    if (operator === 'Exists') return key;
    if (operator === 'DoesNotExist') return `!${key}`;
    return `${key} ${operator.toLowerCase()} (${values})`;
  });
  return joinOrNone([...labels, ...expressions]);
}
