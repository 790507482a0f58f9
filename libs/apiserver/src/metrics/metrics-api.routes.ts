// metrics.k8s.io/v1beta1, served as metrics-server serves it (nodes and pods, get and list, label and
// field selectors), from the usage samples the node agents report. Raw Fastify routes beside the Nest
// controller: these are not stored objects, so none of the resource handler's storage applies. The
// pod and node objects (for selectors, labels and uids) come from the apiserver's watch caches.
import {
  NODE_METRICS_TYPE,
  POD_METRICS_TYPE,
  RESOURCE_TYPES,
  type KubeObject,
  type NodeMetrics,
  type PodMetrics,
  type ResourceType,
} from '@flotilla/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Authorizer } from '../auth/authorizer';
import { ApiError, apiErrors } from '../http/api-error';
import { parseReadOptions, queryValue, type Query, type ReadOptions } from '../resources/request-options';
import type { ResourceReads } from '../resources/resource-reads';
import { contextOf } from '../server/request-context';
import { toApiError } from '../server/status-exception.filter';
import { nodeMetricsOf, podMetricsOf } from './metrics-shapes.util';
import type { UsageSamples } from './usage-samples.store';

export interface MetricsApiDependencies {
  reads: ResourceReads;
  samples: UsageSamples;
  authorizer: Authorizer;
  logger: Logger;
  now?: () => Date;
}

const PREFIX = '/apis/metrics.k8s.io/v1beta1';

function coreType(plural: string): ResourceType {
  const type = RESOURCE_TYPES.find((candidate) => candidate.group === '' && candidate.plural === plural);
  if (!type) throw new Error(`the core resource ${plural} is not registered`);
  return type;
}

function send(reply: FastifyReply, code: number, body: unknown): void {
  void reply.code(code).header('Content-Type', 'application/json').send(JSON.stringify(body));
}

/** Selectors as for the object itself, always from the watch cache: a metrics read never costs etcd. */
function readOptions(query: Query, type: ResourceType): ReadOptions {
  if (['true', '1'].includes(queryValue(query, 'watch') ?? '')) {
    throw apiErrors.methodNotAllowed(
      'WATCH',
      `${type.plural}.metrics.k8s.io (metrics are read with get and list)`,
    );
  }
  const options = parseReadOptions(query, type);
  return {
    labels: options.labels,
    fields: options.fields,
    exact: false,
    watch: false,
    allowBookmarks: false,
    resourceVersion: 0,
  };
}

function listOf<T>(kind: string, items: T[]): object {
  return { kind, apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items };
}

export function registerMetricsApiRoutes(fastify: FastifyInstance, deps: MetricsApiDependencies): void {
  const pods = coreType('pods');
  const nodes = coreType('nodes');
  const now = deps.now ?? (() => new Date());

  const authorize = (
    request: FastifyRequest,
    attributes: { verb: 'get' | 'list'; resource: 'pods' | 'nodes'; namespace?: string; name?: string },
  ): void => {
    const context = contextOf(request.raw);
    context.verb = attributes.verb;
    context.resource = `${attributes.resource}.metrics.k8s.io`;
    if (!context.user) throw apiErrors.unauthorized();
    const decision = deps.authorizer.authorize({
      user: context.user,
      group: 'metrics.k8s.io',
      ...attributes,
    });
    if (!decision.allowed) {
      const where = attributes.namespace
        ? ` in the namespace "${attributes.namespace}"`
        : ' at the cluster scope';
      throw apiErrors.forbidden(
        `${attributes.resource}.metrics.k8s.io${attributes.name ? ` "${attributes.name}"` : ''} is forbidden: User "${context.user.name}" cannot ${attributes.verb} resource "${attributes.resource}" in API group "metrics.k8s.io"${where}: ${decision.reason}`,
      );
    }
  };

  const unavailable = (error: unknown): ApiError => {
    if (error instanceof ApiError) return error;
    deps.logger.warn({ err: error }, 'could not read usage samples');
    return apiErrors.unavailable(
      `the metrics store could not be read (${error instanceof Error ? error.message : String(error)}): check that Redis is running, then retry`,
    );
  };

  const podMetrics = async (objects: KubeObject[]): Promise<PodMetrics[]> => {
    const keys = objects.map((pod) => ({
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
    }));
    const windows = await deps.samples.pods(keys).catch((error: unknown) => {
      throw unavailable(error);
    });
    const at = now();
    return objects.flatMap((pod) => {
      const window = windows.get(`${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`);
      const metrics = window && podMetricsOf({ pod, window, now: at });
      return metrics ? [metrics] : [];
    });
  };

  const nodeMetrics = async (objects: KubeObject[]): Promise<NodeMetrics[]> => {
    const windows = await deps.samples
      .nodes(objects.map((node) => node.metadata.name ?? ''))
      .catch((error: unknown) => {
        throw unavailable(error);
      });
    const at = now();
    return objects.flatMap((node) => {
      const window = windows.get(node.metadata.name ?? '');
      const metrics = window && nodeMetricsOf({ node, window, now: at });
      return metrics ? [metrics] : [];
    });
  };

  /** The object the metrics are about, or the metrics API's own 404 (metrics-server's wording). */
  const getObject = async (
    type: ResourceType,
    metricsType: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<KubeObject> => {
    try {
      return await deps.reads.get(
        { type, ...(namespace !== undefined ? { namespace } : {}), name },
        { resourceVersion: 0 },
      );
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) throw apiErrors.notFound(metricsType, name);
      throw error;
    }
  };

  const listPods = async (
    request: FastifyRequest<{ Querystring: Query }>,
    namespace: string | undefined,
  ): Promise<object> => {
    authorize(request, { verb: 'list', resource: 'pods', ...(namespace !== undefined ? { namespace } : {}) });
    const list = await deps.reads.list(
      { type: pods, ...(namespace !== undefined ? { namespace } : {}) },
      readOptions(request.query, pods),
    );
    return listOf('PodMetricsList', await podMetrics(list.items));
  };

  const handle = <P>(
    url: string,
    produce: (request: FastifyRequest<{ Params: P; Querystring: Query }>) => Promise<object>,
  ): void => {
    fastify.route<{ Params: P; Querystring: Query }>({
      method: 'GET',
      url,
      handler: async (request, reply) => {
        try {
          send(reply, 200, await produce(request));
        } catch (error) {
          const failure = toApiError(error, request.url, deps.logger);
          send(reply, failure.code, failure.status);
        }
      },
    });
  };

  handle<Record<string, never>>(`${PREFIX}/nodes`, async (request) => {
    authorize(request, { verb: 'list', resource: 'nodes' });
    const list = await deps.reads.list({ type: nodes }, readOptions(request.query, nodes));
    return listOf('NodeMetricsList', await nodeMetrics(list.items));
  });

  handle<{ name: string }>(`${PREFIX}/nodes/:name`, async (request) => {
    const { name } = request.params;
    authorize(request, { verb: 'get', resource: 'nodes', name });
    const node = await getObject(nodes, NODE_METRICS_TYPE, undefined, name);
    const [metrics] = await nodeMetrics([node]);
    if (!metrics) throw apiErrors.notFound(NODE_METRICS_TYPE, name);
    return metrics;
  });

  handle<Record<string, never>>(`${PREFIX}/pods`, (request) => listPods(request, undefined));

  handle<{ namespace: string }>(`${PREFIX}/namespaces/:namespace/pods`, (request) =>
    listPods(request, request.params.namespace),
  );

  handle<{ namespace: string; name: string }>(
    `${PREFIX}/namespaces/:namespace/pods/:name`,
    async (request) => {
      const { namespace, name } = request.params;
      authorize(request, { verb: 'get', resource: 'pods', namespace, name });
      const pod = await getObject(pods, POD_METRICS_TYPE, namespace, name);
      const [metrics] = await podMetrics([pod]);
      if (!metrics) throw apiErrors.notFound(POD_METRICS_TYPE, name);
      return metrics;
    },
  );
}
