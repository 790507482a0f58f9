// `describe` output: kubectl's layout (aligned "Key:  value" lines, indented sections, Events last),
// with a summary for the kinds people describe most and the remaining fields as YAML for the rest.
import { stringify } from 'yaml';
import type { KubeObject } from '@flotilla/api';
import { ageOf, at, eventTime, list, num, podStatus, renderTable, str } from '@flotilla/printers';

type Line = readonly [key: string, value: string] | string;

export function describeObject(object: KubeObject, events: readonly KubeObject[], now: Date): string {
  const meta = object.metadata;
  const header: Line[] = [
    ['Name:', meta.name ?? ''],
    ...(meta.namespace !== undefined ? [['Namespace:', meta.namespace] as const] : []),
    ['Labels:', mapLines(meta.labels)],
    ['Annotations:', mapLines(meta.annotations)],
    ['CreationTimestamp:', meta.creationTimestamp ? rfc1123(meta.creationTimestamp) : '<unknown>'],
  ];
  if (meta.deletionTimestamp) header.push(['Terminating since:', rfc1123(meta.deletionTimestamp)]);
  if (meta.ownerReferences?.length) {
    header.push(['Controlled By:', meta.ownerReferences.map((o) => `${o.kind}/${o.name}`).join(', ')]);
  }
  const summary = SUMMARIES[object.kind]?.(object) ?? genericSummary(object);
  return `${aligned([...header, ...summary])}${eventsSection(events, now)}`;
}

const SUMMARIES: Record<string, (object: KubeObject) => Line[]> = {
  Pod: (pod) => {
    const statuses = list(at(pod, 'status', 'containerStatuses'));
    const containers = list(at(pod, 'spec', 'containers')).flatMap((container): Line[] => {
      const name = str(at(container, 'name'));
      const status = statuses.find((s) => str(at(s, 'name')) === name);
      const state = at(status, 'state');
      const stateName = state && typeof state === 'object' ? (Object.keys(state)[0] ?? 'Unknown') : 'Waiting';
      const reason = str(at(state, stateName, 'reason'));
      return [
        `  ${name}:`,
        ['    Image:', str(at(container, 'image'))],
        ['    State:', `${capitalize(stateName)}${reason ? ` (${reason})` : ''}`],
        ['    Ready:', at(status, 'ready') === true ? 'True' : 'False'],
        ['    Restart Count:', String(num(at(status, 'restartCount')))],
      ];
    });
    return [
      ['Node:', str(at(pod, 'spec', 'nodeName')) || '<none>'],
      ['Status:', podStatus(pod)],
      ['IP:', str(at(pod, 'status', 'podIP')) || '<none>'],
      'Containers:',
      ...containers,
      ...conditionLines(pod),
    ];
  },
  Deployment: (deployment) => {
    const replicas = num(at(deployment, 'spec', 'replicas'), 1);
    const status = (field: string): number => num(at(deployment, 'status', field));
    return [
      ['Selector:', labelSelectorText(at(deployment, 'spec', 'selector'))],
      [
        'Replicas:',
        `${replicas} desired | ${status('updatedReplicas')} updated | ${status('replicas')} total | ${status('availableReplicas')} available | ${status('unavailableReplicas')} unavailable`,
      ],
      ['StrategyType:', str(at(deployment, 'spec', 'strategy', 'type')) || 'RollingUpdate'],
      'Pod Template:',
      ...list(at(deployment, 'spec', 'template', 'spec', 'containers')).flatMap((container): Line[] => [
        `  ${str(at(container, 'name'))}:`,
        ['    Image:', str(at(container, 'image'))],
      ]),
      ...conditionLines(deployment),
    ];
  },
  HorizontalPodAutoscaler: (hpa) => {
    const ref = at(hpa, 'spec', 'scaleTargetRef');
    const current = list(at(hpa, 'status', 'currentMetrics'));
    const metrics = list(at(hpa, 'spec', 'metrics')).map((metric): Line => {
      const name = str(at(metric, 'resource', 'name'));
      const target = at(metric, 'resource', 'target');
      const observed = at(
        current.find((c) => str(at(c, 'resource', 'name')) === name),
        'resource',
        'current',
      );
      const value = at(observed, 'averageValue');
      const utilization = at(observed, 'averageUtilization');
      if (str(at(target, 'type')) === 'Utilization') {
        const now = typeof utilization === 'number' ? `${utilization}% (${str(value)})` : '<unknown>';
        return [
          `  resource ${name} on pods  (as a percentage of request):`,
          `${now} / ${num(at(target, 'averageUtilization'))}%`,
        ];
      }
      return [
        `  resource ${name} on pods:`,
        `${str(value) || '<unknown>'} / ${str(at(target, 'averageValue'))}`,
      ];
    });
    const rules = (direction: 'scaleUp' | 'scaleDown', title: string): Line[] => {
      const rule = at(hpa, 'spec', 'behavior', direction);
      if (rule === undefined) return [];
      return [
        `  ${title}:`,
        `    Stabilization Window: ${num(at(rule, 'stabilizationWindowSeconds'))} seconds`,
        `    Select Policy: ${str(at(rule, 'selectPolicy')) || 'Max'}`,
        '    Policies:',
        ...list(at(rule, 'policies')).map(
          (policy) =>
            `      - Type: ${str(at(policy, 'type'))}  Value: ${num(at(policy, 'value'))}  Period: ${num(at(policy, 'periodSeconds'))} seconds`,
        ),
      ];
    };
    const conditions = list(at(hpa, 'status', 'conditions'));
    const conditionTable =
      conditions.length === 0
        ? []
        : renderTable({
            headers: ['Type', 'Status', 'Reason', 'Message'],
            rows: [
              ['----', '------', '------', '-------'],
              ...conditions.map((c) => [
                str(at(c, 'type')),
                str(at(c, 'status')),
                str(at(c, 'reason')),
                str(at(c, 'message')),
              ]),
            ],
          })
            .trimEnd()
            .split('\n')
            .map((line) => `  ${line}`);
    return [
      ['Reference:', `${str(at(ref, 'kind'))}/${str(at(ref, 'name'))}`],
      ['Metrics:', '( current / target )'],
      ...metrics,
      ['Min replicas:', String(num(at(hpa, 'spec', 'minReplicas'), 1))],
      ['Max replicas:', String(num(at(hpa, 'spec', 'maxReplicas')))],
      ...(at(hpa, 'spec', 'behavior') !== undefined
        ? ['Behavior:', ...rules('scaleUp', 'Scale Up'), ...rules('scaleDown', 'Scale Down')]
        : []),
      [
        `${str(at(ref, 'kind'))} pods:`,
        `${num(at(hpa, 'status', 'currentReplicas'))} current / ${num(at(hpa, 'status', 'desiredReplicas'))} desired`,
      ],
      ...(str(at(hpa, 'status', 'lastScaleTime'))
        ? [['Last scale:', rfc1123(str(at(hpa, 'status', 'lastScaleTime')))] as const]
        : []),
      ...(conditionTable.length > 0 ? ['Conditions:', ...conditionTable] : []),
    ];
  },
};

function genericSummary(object: KubeObject): Line[] {
  const { apiVersion: _apiVersion, kind: _kind, metadata: _metadata, ...rest } = object;
  return Object.entries(rest).flatMap(([field, value]): Line[] => {
    if (typeof value !== 'object' || value === null)
      return [[`${capitalize(field)}:`, str(value) || String(value)]];
    const yaml = stringify(value, { lineWidth: 0 }).trimEnd();
    return [`${capitalize(field)}:`, ...yaml.split('\n').map((line) => `  ${line}`)];
  });
}

function conditionLines(object: KubeObject): Line[] {
  const conditions = list(at(object, 'status', 'conditions'));
  if (conditions.length === 0) return [];
  const table = renderTable({
    headers: ['Type', 'Status', 'Reason'],
    rows: conditions.map((c) => [str(at(c, 'type')), str(at(c, 'status')), str(at(c, 'reason')) || '<none>']),
  });
  return [
    'Conditions:',
    ...table
      .trimEnd()
      .split('\n')
      .map((line) => `  ${line}`),
  ];
}

function eventsSection(events: readonly KubeObject[], now: Date): string {
  if (events.length === 0) return 'Events:  <none>\n';
  const sorted = [...events].sort((a, b) => Date.parse(eventTime(a) ?? '') - Date.parse(eventTime(b) ?? ''));
  const rows = sorted.map((event) => {
    const count = num(at(event, 'count'), 1);
    const first = str(at(event, 'firstTimestamp'));
    const age = ageOf(eventTime(event), now);
    return [
      str(at(event, 'type')),
      str(at(event, 'reason')),
      count > 1 && first ? `${age} (x${count} over ${ageOf(first, now)})` : age,
      str(at(event, 'source', 'component')) ||
        str(at(event, 'reportingComponent')) ||
        str(at(event, 'reportingController')),
      str(at(event, 'message')).replace(/\s*\n\s*/g, ' '),
    ];
  });
  const headers = ['Type', 'Reason', 'Age', 'From', 'Message'];
  const table = renderTable({ headers, rows: [headers.map((h) => '-'.repeat(h.length)), ...rows] });
  return `Events:\n${table
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')}\n`;
}

/** Lines with values aligned two spaces after the longest key of the block. */
function aligned(lines: readonly Line[]): string {
  const width = Math.max(...lines.map((line) => (typeof line === 'string' ? 0 : line[0].length)));
  return lines
    .map((line) => {
      if (typeof line === 'string') return `${line}\n`;
      const [key, value] = line;
      const indent = ' '.repeat(width + 2);
      const [first = '', ...more] = value.split('\n');
      return `${key.padEnd(width + 2)}${first}\n${more.map((m) => `${indent}${m}\n`).join('')}`;
    })
    .join('');
}

function mapLines(map: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(map ?? {});
  return entries.length === 0 ? '<none>' : entries.map(([key, value]) => `${key}=${value}`).join('\n');
}

function labelSelectorText(selector: unknown): string {
  const labels = at(selector, 'matchLabels');
  if (typeof labels !== 'object' || labels === null) return '<none>';
  return (
    Object.entries(labels)
      .map(([key, value]) => `${key}=${str(value)}`)
      .join(',') || '<none>'
  );
}

/** "Mon, 23 Nov 2026 08:57:54 +0000", the form kubectl describe prints. */
function rfc1123(timestamp: string): string {
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? timestamp : date.toUTCString().replace(/ GMT$/, ' +0000');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
