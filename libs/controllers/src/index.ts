export { startGarbageCollector } from './garbage-collector/garbage-collector.controller';
export type {
  GarbageCollectorOptions,
  RunningGarbageCollector,
} from './garbage-collector/garbage-collector.controller';
export {
  FOREGROUND_FINALIZER,
  ORPHAN_FINALIZER,
  dependentAction,
  ownerAction,
} from './garbage-collector/ownership.util';
export type { DependentAction, OwnerAction } from './garbage-collector/ownership.util';
