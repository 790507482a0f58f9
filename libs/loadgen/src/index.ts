export { roundRobin, startHttpLoad } from './http-load.client';
export type {
  HttpLoadOptions,
  HttpLoadReport,
  LoadFailure,
  LoadTarget,
  RunningHttpLoad,
} from './http-load.client';
