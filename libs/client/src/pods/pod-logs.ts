// A container's log through the apiserver (pods/log), streamed: the caller reads the response as it
// arrives and destroys it (or aborts the signal) to stop a follow.
import type { IncomingMessage } from 'node:http';
import { RESOURCE_TYPES, type ResourceType } from '@flotilla/api';
import { withQuery } from '../rest/resource-path';
import type { RestClient } from '../rest/rest-client';

export interface PodLogsOptions {
  /** Defaults to the client's namespace. */
  readonly namespace?: string;
  readonly pod: string;
  /** Needed when the pod has more than one container. */
  readonly container?: string;
  readonly follow?: boolean;
  /** The previous, terminated instance of the container. */
  readonly previous?: boolean;
  readonly tailLines?: number;
  readonly sinceSeconds?: number;
  /** RFC 3339; mutually exclusive with sinceSeconds. */
  readonly sinceTime?: string;
  readonly timestamps?: boolean;
  readonly limitBytes?: number;
  readonly signal?: AbortSignal;
}

export function podsType(): ResourceType {
  const type = RESOURCE_TYPES.find((candidate) => candidate.group === '' && candidate.plural === 'pods');
  if (!type) throw new Error('the pods resource is not registered in @flotilla/api');
  return type;
}

/** Resolves with the open text/plain response; rejects with ApiError when the server refuses. */
export function streamPodLogs(client: RestClient, options: PodLogsOptions): Promise<IncomingMessage> {
  const path = client.objectPath(podsType(), options.pod, {
    namespace: options.namespace,
    subresource: 'log',
  });
  return client.openStream({
    path: withQuery(path, {
      container: options.container,
      follow: options.follow ? true : undefined,
      previous: options.previous ? true : undefined,
      tailLines: options.tailLines,
      sinceSeconds: options.sinceSeconds,
      sinceTime: options.sinceTime,
      timestamps: options.timestamps ? true : undefined,
      limitBytes: options.limitBytes,
    }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
