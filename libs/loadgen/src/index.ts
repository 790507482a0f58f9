export { roundRobin, startHttpLoad } from './http-load.client';
export type {
  HttpLoadOptions,
  HttpLoadReport,
  LoadFailure,
  LoadTarget,
  RunningHttpLoad,
} from './http-load.client';
export { KeepAliveHttpsClient } from './keep-alive-https.client';
export type { HttpsRequest, KeepAliveHttpsClientOptions } from './keep-alive-https.client';
export { HttpResponseError, HttpResponseParser } from './http-response.parser';
export type { HttpResponse } from './http-response.parser';
