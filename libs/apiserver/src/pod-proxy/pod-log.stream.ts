// Relays one container's log from its node agent to an HTTP response, as kube-apiserver proxies
// kubelet: text/plain, chunked, for as long as the agent sends (a follow ends when the client goes
// away, which cancels the agent's read). Failures before the first byte become a Status with the
// right code; after it, the response just ends.
import type { ServerResponse } from 'node:http';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { AgentServiceClient, LogChunk } from '@flotilla/proto';
import type { ApiError } from '../http/api-error';
import { apiErrorOfAgent } from './agent-dialer';
import type { PodLogQuery } from './pod-proxy.query';
import type { PodTarget } from './pod-target';

export interface PodLogStreamOptions {
  client: AgentServiceClient;
  target: PodTarget;
  endpoint: string;
  query: PodLogQuery;
  response: ServerResponse;
  /** Writes a Status response when nothing has been sent yet. */
  sendError: (error: ApiError) => void;
}

export function streamPodLog(options: PodLogStreamOptions): Promise<void> {
  const { client, target, query, response } = options;
  const call = client.logs({
    namespace: target.namespace,
    pod: target.pod,
    container: target.container,
    follow: query.follow,
    previous: query.previous,
    tailLines: BigInt(query.tailLines ?? -1),
    sinceSeconds: BigInt(query.sinceSeconds ?? 0),
    timestamps: query.timestamps,
  });
  let started = false;
  let finished = false;
  let remaining = query.limitBytes ?? Number.POSITIVE_INFINITY;
  return new Promise<void>((resolve) => {
    const start = (): void => {
      if (started) return;
      started = true;
      response.writeHead(200, {
        'Content-Type': 'text/plain',
        'Cache-Control': 'no-cache, private',
        'Transfer-Encoding': 'chunked',
      });
    };
    const finish = (): void => {
      if (finished) return;
      finished = true;
      call.cancel();
      if (!response.writableEnded) response.end();
      resolve();
    };
    call.on('metadata', start);
    call.on('data', (chunk: LogChunk) => {
      start();
      const data = chunk.data.length > remaining ? chunk.data.subarray(0, remaining) : chunk.data;
      remaining -= data.length;
      const more = response.write(data);
      if (remaining <= 0) {
        finish();
        return;
      }
      if (!more) {
        call.pause();
        response.once('drain', () => call.resume());
      }
    });
    call.on('end', finish);
    call.on('error', (error: ServiceError) => {
      if (finished) return;
      if (!started && error.code !== GrpcStatus.CANCELLED) {
        finished = true;
        options.sendError(apiErrorOfAgent(error, { nodeName: target.nodeName, endpoint: options.endpoint }));
        resolve();
        return;
      }
      finish();
    });
    // The client went away (kubectl logs -f interrupted): stop the agent's read of the log.
    response.on('close', finish);
  });
}
