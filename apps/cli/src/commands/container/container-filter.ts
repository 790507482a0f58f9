// `container ps --filter KEY=VALUE`, as docker ps: label=KEY or label=KEY=VALUE (every one must match),
// name=PART (any one; a part of the name), status=created|running|exited (any one).
import type { ContainerInfo } from '@flotilla/runtime';
import { CliError, EXIT_USAGE } from '../../cli-context';

const STATUSES = ['created', 'running', 'exited'] as const;
type FilterStatus = (typeof STATUSES)[number];

export interface ContainerFilter {
  labels: Array<{ key: string; value?: string }>;
  names: string[];
  statuses: FilterStatus[];
}

export function parseContainerFilters(texts: readonly string[]): ContainerFilter {
  const filter: ContainerFilter = { labels: [], names: [], statuses: [] };
  for (const text of texts) {
    const equals = text.indexOf('=');
    const kind = equals < 0 ? text : text.slice(0, equals);
    const value = equals < 0 ? '' : text.slice(equals + 1);
    if (kind === 'label' && value !== '') {
      const split = value.indexOf('=');
      filter.labels.push(
        split < 0 ? { key: value } : { key: value.slice(0, split), value: value.slice(split + 1) },
      );
    } else if (kind === 'name' && value !== '') {
      filter.names.push(value);
    } else if (kind === 'status' && (STATUSES as readonly string[]).includes(value)) {
      filter.statuses.push(value as FilterStatus);
    } else {
      throw new CliError(
        `--filter "${text}" must be label=KEY[=VALUE], name=NAME or status=${STATUSES.join('|')}`,
        EXIT_USAGE,
      );
    }
  }
  return filter;
}

/** A status filter looks past running containers, as docker ps --filter status=exited does without -a. */
export function filterWantsAll(filter: ContainerFilter): boolean {
  return filter.statuses.length > 0;
}

/** What a filter looks at: a ContainerInfo, or any container shaped like one. */
export type FilteredContainer = Pick<ContainerInfo, 'name'> & {
  spec: Pick<ContainerInfo['spec'], 'labels'>;
  state: Pick<ContainerInfo['state'], 'status'>;
};

function statusOf(info: FilteredContainer): FilterStatus | undefined {
  const status = info.state.status;
  if (status === 'stopped') return 'exited';
  return status === 'created' || status === 'running' ? status : undefined;
}

export function matchesFilter(info: FilteredContainer, filter: ContainerFilter): boolean {
  const labels = info.spec.labels ?? {};
  const status = statusOf(info);
  return (
    filter.labels.every(
      ({ key, value }) => Object.hasOwn(labels, key) && (value === undefined || labels[key] === value),
    ) &&
    (filter.names.length === 0 || filter.names.some((part) => info.name.includes(part))) &&
    (filter.statuses.length === 0 || (status !== undefined && filter.statuses.includes(status)))
  );
}
