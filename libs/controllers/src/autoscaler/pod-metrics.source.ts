// Where the autoscaler reads pod usage: metrics-server's PodMetrics through the resource metrics API
// (/apis/metrics.k8s.io/v1beta1/namespaces/NS/pods?labelSelector=...), behind a small interface so the
// controller can be exercised with any source of PodMetrics-shaped data.
import type { RestClient } from '@flotilla/client';

/** The part of metrics.k8s.io/v1beta1 PodMetrics the autoscaler reads. */
export interface PodMetricsItem {
  readonly metadata: { readonly name?: string; readonly namespace?: string };
  /** End of the sample window (RFC 3339). */
  readonly timestamp: string;
  /** Length of the window, as a Go duration ("15s"). */
  readonly window: string;
  readonly containers: ReadonlyArray<{
    readonly name: string;
    readonly usage: Readonly<Record<string, string>>;
  }>;
}

export interface PodMetricsSource {
  /** PodMetrics of the pods in `namespace` matching `labelSelector` (its string form, "app=web"). */
  list(namespace: string, labelSelector: string): Promise<readonly PodMetricsItem[]>;
}

export function metricsApiPodMetricsSource(client: RestClient): PodMetricsSource {
  return {
    async list(namespace, labelSelector) {
      const list = await client.request<{ items?: PodMetricsItem[] }>({
        method: 'GET',
        path: `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`,
        query: { labelSelector },
      });
      return list.items ?? [];
    },
  };
}
