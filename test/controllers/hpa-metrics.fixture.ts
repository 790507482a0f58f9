// The metrics pipeline for the autoscaler tests. The resource metrics API (libs/apiserver/src/metrics)
// had not landed when these tests were written, so this PodMetricsSource stands in for it: it lists the
// real pods through the apiserver and reports, for every Running pod of an app, what metrics-server
// would: the Ready pods share the app's load (millicores) equally, as a Service spreads requests, and
// pods not Ready (no traffic yet) idle at 1m.
import { resolveResourceName, type ResourceType } from '@flotilla/api';
import type { RestClient } from '@flotilla/client';
import type { PodMetricsItem, PodMetricsSource } from '@flotilla/controllers';
import type { PodObject } from './replicaset-node.fixture';

function podsType(): ResourceType {
  const type = resolveResourceName('pods');
  if (!type) throw new Error('@flotilla/api has no pods');
  return type;
}

const isServing = (pod: PodObject): boolean =>
  pod.metadata.deletionTimestamp === undefined &&
  pod.status?.phase === 'Running' &&
  (pod.status.conditions ?? []).some(
    (condition) => condition.type === 'Ready' && condition.status === 'True',
  );

/** `load` maps an app label to its total cpu load in millicores; the test changes it as it goes. */
export function loadSharingPodMetrics(
  client: RestClient,
  load: ReadonlyMap<string, number>,
): PodMetricsSource {
  return {
    async list(namespace, labelSelector) {
      const pods = await client.list<PodObject>(podsType(), { namespace, labelSelector });
      const running = pods.items.filter((pod) => pod.status?.phase === 'Running');
      const serving = running.filter(isServing).length;
      return running.map((pod): PodMetricsItem => {
        const total = load.get(pod.metadata.labels?.['app'] ?? '') ?? 0;
        const cpu = isServing(pod) ? Math.round(total / serving) : 1;
        return {
          metadata: { name: pod.metadata.name, namespace },
          timestamp: new Date().toISOString(),
          window: '1s',
          containers: [
            { name: pod.spec.containers[0]?.name ?? 'web', usage: { cpu: `${cpu}m`, memory: '16Mi' } },
          ],
        };
      });
    },
  };
}
