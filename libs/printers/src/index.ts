export { ageOf, humanDuration } from './human-duration';
export {
  at,
  eventTime,
  list,
  num,
  podStatus,
  qualifiedName,
  resourceLabel,
  resourceTable,
  str,
} from './resource-columns';
export type { TableOptions } from './resource-columns';
export { renderTable } from './table.printer';
export type { Table } from './table.printer';
export { nodeTopTable, podTopTable } from './top-table.util';
export type { NodeTopOptions, PodTopOptions, TopSortBy } from './top-table.util';
