// The load client lives in libs/loadgen so benchmarks (bench/autoscale) use the same one; tests keep
// importing it from here.
export { roundRobin, startHttpLoad } from '@flotilla/loadgen';
export type {
  HttpLoadOptions,
  HttpLoadReport,
  LoadFailure,
  LoadTarget,
  RunningHttpLoad,
} from '@flotilla/loadgen';
