// Builds and starts the apiserver: etcd store and watch caches, the resource handler, NestJS on
// Fastify with HTTPS, bearer-token authentication, hostile-body limits, metrics and logs.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Server as TlsServer } from 'node:tls';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { openApiV3Document, openApiV3Paths } from '@flotilla/api';
import { EtcdStore, type Store } from '@flotilla/store';
import pino, { type Logger } from 'pino';
import { AllowAuthenticatedAuthorizer, type Authorizer } from '../auth/authorizer';
import { TokenAuthenticator } from '../auth/token-authenticator';
import { AcceptedConnections } from '../http/accepted-connections';
import { apiErrors } from '../http/api-error';
import { MAX_BODY_BYTES } from '../http/request-body';
import { registerMetricsApiRoutes } from '../metrics/metrics-api.routes';
import { RedisSampleLists } from '../metrics/redis-sample-lists';
import { MemorySampleLists, type SampleLists } from '../metrics/sample-lists';
import { UsageSamples } from '../metrics/usage-samples.store';
import { startNodeService, type NodeServiceOptions, type RunningNodeService } from '../nodes/node-service';
import { KubePatcher } from '../resources/kube-patcher';
import { NamespaceCleanup } from '../resources/namespace-cleanup';
import { KubernetesObjectModel, type ObjectModel } from '../resources/object-model';
import type { Patcher } from '../resources/object-patcher';
import { ResourceHandler } from '../resources/resource-handler';
import { ResourceReads } from '../resources/resource-reads';
import { ResourceStorage } from '../resources/resource-storage';
import { ResourceWrites } from '../resources/resource-writes';
import { AgentDialer } from '../pod-proxy/agent-dialer';
import { ServiceAllocator } from '../services/service-allocator';
import { registerPodProxyRoutes } from '../pod-proxy/pod-proxy.routes';
import { ApiController } from './api.controller';
import { ApiDispatcher, type ApiDependencies } from './api-dispatcher';
import { createApiFastPath } from './api-fast-path';
import { ApiMetrics } from './api-metrics';
import { HealthController, type HealthDependencies } from './health.controller';
import { contextOf, type RequestContext } from './request-context';
import { StatusExceptionFilter } from './status-exception.filter';
import { API_DEPENDENCIES, HEALTH_DEPENDENCIES } from './tokens';

export interface ApiServerOptions {
  etcdServers: string[];
  bindAddress: string;
  port: number;
  tokenAuthFile: string;
  /** Serve HTTPS with this certificate and key; plain HTTP only when both are absent. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  logLevel?: string;
  /** How often etcd history is compacted (default 5 minutes, as Kubernetes). */
  compactionIntervalMs?: number;
  /** Where Services' cluster IPs come from (--service-cluster-ip-range, default 10.96.0.0/12). */
  serviceClusterIpRange?: string;
  /** Node ports of NodePort Services (default 30000-32767). */
  serviceNodePortRange?: string;
  /** How often leaked cluster IP and node port claims are looked for (default 60 s). */
  serviceRepairIntervalMs?: number;
  /** Serve the gRPC NodeService to node agents, with the TLS certificate above (required then). */
  nodeService?: Omit<NodeServiceOptions, 'tlsCertFile' | 'tlsPrivateKeyFile' | 'bindAddress'>;
  /** Overrides for tests and embedding. */
  store?: Store;
  model?: ObjectModel;
  patcher?: Patcher;
  openApi?: HealthDependencies['openApi'];
  authorizer?: Authorizer;
  /** The apiserver's client certificate toward node agents and the CA of their serving certificates (logs, exec). */
  agentClientCertFile?: string;
  agentClientKeyFile?: string;
  agentCaFile?: string;
  /**
   * Where node usage samples are kept for metrics.k8s.io: Redis shared by every apiserver replica, or
   * (no redisUrl) this process's memory, enough for a single apiserver.
   */
  metrics?: {
    redisUrl?: string;
    /** How long samples outlive a node's last report (default 15 s: 3 × the agents' 5 s period). */
    ttlMs?: number;
    /** Prefixes the Redis keys (default "flotilla:metrics:"), for clusters or test runs sharing a Redis. */
    keyPrefix?: string;
  };
}

export interface RunningApiServer {
  url: string;
  port: number;
  logger: Logger;
  /** The NodeService's port, when it runs. */
  grpcPort?: number;
  /** The recent usage samples of nodes and pods behind metrics.k8s.io. */
  usageSamples: UsageSamples;
  /** Runs one compaction interval now (records the current revision, compacts to the last one). */
  compact(): Promise<void>;
  close(): Promise<void>;
}

/** Paths anyone may read, as Kubernetes' system:public-info-viewer allows. */
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

@Module({})
class ApiServerModule {
  static with(api: ApiDependencies, health: HealthDependencies): DynamicModule {
    return {
      module: ApiServerModule,
      controllers: [ApiController, HealthController],
      providers: [
        { provide: API_DEPENDENCIES, useValue: api },
        { provide: HEALTH_DEPENDENCIES, useValue: health },
      ],
    };
  }
}

export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const logger = pino({ level: options.logLevel ?? 'info', base: { component: 'apiserver' } });
  const authenticator = TokenAuthenticator.fromFile(options.tokenAuthFile);
  // Redis first: a wrong --redis-url stops start-up before anything is written to etcd.
  let sampleLists: SampleLists;
  const redisUrl = options.metrics?.redisUrl;
  if (redisUrl) {
    const redisLists = new RedisSampleLists({
      url: redisUrl,
      keyPrefix: options.metrics?.keyPrefix ?? 'flotilla:metrics:',
    });
    sampleLists = redisLists;
    try {
      await redisLists.ping(redisUrl);
    } catch (error) {
      await redisLists.close();
      throw error;
    }
  } else {
    sampleLists = new MemorySampleLists();
  }
  const usageSamples = new UsageSamples({
    lists: sampleLists,
    ...(options.metrics?.ttlMs !== undefined ? { ttlMs: options.metrics.ttlMs } : {}),
  });
  const store = options.store ?? new EtcdStore({ endpoints: options.etcdServers });
  const serviceAllocator = new ServiceAllocator({
    store,
    serviceClusterIpRange:
      options.serviceClusterIpRange ?? options.nodeService?.serviceCidr ?? '10.96.0.0/12',
    ...(options.serviceNodePortRange ? { nodePortRange: options.serviceNodePortRange } : {}),
    ...(options.serviceRepairIntervalMs ? { repairIntervalMs: options.serviceRepairIntervalMs } : {}),
    logger,
  });
  const storage = new ResourceStorage({
    store,
    ...(options.compactionIntervalMs ? { compactionIntervalMs: options.compactionIntervalMs } : {}),
    onCacheReset: (type, reason) =>
      logger.warn({ resource: type.plural, reason: reason.message }, 'watch cache reset'),
    onCompactionError: (error) => logger.warn({ err: error }, 'compaction failed; retrying next interval'),
  });
  const namespaceCleanup = new NamespaceCleanup(storage, logger);
  try {
    await storage.start();
    await namespaceCleanup.ensureSystemNamespaces();
    await namespaceCleanup.start();
  } catch (error) {
    await usageSamples.close();
    throw error;
  }
  const model = options.model ?? new KubernetesObjectModel();
  const handler = new ResourceHandler(
    new ResourceReads(storage),
    new ResourceWrites(storage, model, serviceAllocator),
    options.patcher ?? new KubePatcher(),
  );
  const metrics = new ApiMetrics();
  const authorizer = options.authorizer ?? new AllowAuthenticatedAuthorizer();
  const https =
    options.tlsCertFile && options.tlsPrivateKeyFile
      ? { cert: readFileSync(options.tlsCertFile), key: readFileSync(options.tlsPrivateKeyFile) }
      : undefined;
  // Bound once Fastify's router exists; until then every request takes the framework path.
  let fastPath: ((request: IncomingMessage, response: ServerResponse) => boolean) | undefined = undefined;
  let closing = false;
  const handshakes = new AcceptedConnections();
  const adapter = new FastifyAdapter({
    ...(https ? { https } : {}),
    bodyLimit: MAX_BODY_BYTES,
    logger: false,
    // Watches and keep-alive connections would otherwise hold close() open indefinitely.
    forceCloseConnections: true,
    // Kubernetes names may contain dots and colons; keep the router from treating them specially.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    // Our own server so that resource requests can be answered before Fastify (api-fast-path.ts);
    // the timeouts are Fastify's defaults for the servers it creates itself.
    serverFactory: (frameworkHandler: (request: IncomingMessage, response: ServerResponse) => void) => {
      const listener = (request: IncomingMessage, response: ServerResponse): void => {
        if (fastPath?.(request, response) !== true) frameworkHandler(request, response);
      };
      const server = https ? createHttpsServer(https, listener) : createHttpServer(listener);
      if (server instanceof TlsServer) handshakes.trackHandshakes(server);
      server.keepAliveTimeout = 72_000;
      server.requestTimeout = 0;
      server.setTimeout(0);
      return server;
    },
  });
  const scheme = https ? 'https' : 'http';
  const host = options.bindAddress === '0.0.0.0' ? '127.0.0.1' : options.bindAddress;
  const apiDependencies: ApiDependencies = {
    handler,
    authorizer,
    metrics,
    serverAddress: `${host}:${options.port}`,
  };
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiServerModule.with(apiDependencies, {
      metrics,
      ready: async () =>
        storage.ready &&
        (await store.currentRevision().then(
          () => true,
          () => false,
        )),
      openApi: options.openApi ?? { paths: openApiV3Paths, document: openApiV3Document },
    }),
    adapter,
    { logger: false, bodyParser: false },
  );
  app.useGlobalFilters(new StatusExceptionFilter(logger));
  const fastify = app.getHttpAdapter().getInstance();
  // Bodies arrive raw; the resource layer decodes them by content type with its own limits.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES },
    (_request, body, done) => {
      done(null, body);
    },
  );
  fastify.addHook('onRequest', (request, reply, done) => {
    const context = contextOf(request.raw);
    const path = request.url.split('?')[0] ?? '';
    const user = authenticator.authenticate(request.headers.authorization);
    if (user) context.user = user;
    if (!user && !PUBLIC_PATHS.has(path)) {
      const status = apiErrors.unauthorized().status;
      void reply.code(401).header('Content-Type', 'application/json').send(JSON.stringify(status));
      return;
    }
    done();
  });
  const recordRequest = (request: {
    method: string;
    url: string;
    statusCode: number;
    context: RequestContext;
  }): void => {
    const { context, statusCode } = request;
    const verb = context.verb ?? request.method.toLowerCase();
    const resource = context.resource ?? '';
    metrics.requests.labels(verb, resource, String(statusCode)).inc();
    if (verb !== 'watch') {
      const seconds = Number(process.hrtime.bigint() - context.started) / 1e9;
      metrics.duration.labels(verb, resource).observe(seconds);
    }
    if (logger.isLevelEnabled('debug')) {
      logger.debug(
        { method: request.method, url: request.url, code: statusCode, user: context.user?.name },
        'request',
      );
    }
  };
  fastify.addHook('onResponse', (request, reply, done) => {
    recordRequest({
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      context: contextOf(request.raw),
    });
    done();
  });
  registerPodProxyRoutes(fastify, {
    reads: new ResourceReads(storage),
    authorizer,
    dialer: new AgentDialer(
      options.agentClientCertFile && options.agentClientKeyFile && options.agentCaFile
        ? {
            certFile: options.agentClientCertFile,
            keyFile: options.agentClientKeyFile,
            caFile: options.agentCaFile,
          }
        : undefined,
    ),
    logger,
  });
  registerMetricsApiRoutes(fastify, {
    reads: new ResourceReads(storage),
    samples: usageSamples,
    authorizer,
    logger,
  });
  await app.listen(options.port, options.bindAddress);
  fastPath = createApiFastPath({
    dispatcher: new ApiDispatcher(apiDependencies),
    authenticate: (authorization) => authenticator.authenticate(authorization),
    routesToApi: (method, path) => {
      const route = fastify.findRoute({ method: method as 'GET', url: path });
      // The generic /api/* and /apis/* routes capture a wildcard; pods/log, pods/exec and
      // metrics.k8s.io are routes of their own with named parameters or none.
      return route !== null && route.params !== undefined && '*' in route.params;
    },
    closing: () => closing,
    onFinished: recordRequest,
    logger,
  });
  serviceAllocator.start();
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `${scheme}://${host}:${port}`;
  logger.info({ url, etcd: options.etcdServers }, 'apiserver listening');
  let nodeService: RunningNodeService | undefined;
  if (options.nodeService) {
    if (!options.tlsCertFile || !options.tlsPrivateKeyFile) {
      await app.close();
      await storage.stop();
      await usageSamples.close();
      throw new Error('the NodeService (--grpc-port) needs --tls-cert-file and --tls-private-key-file');
    }
    nodeService = await startNodeService(
      {
        ...options.nodeService,
        serviceCidr: serviceAllocator.ipRange.cidr,
        bindAddress: options.bindAddress,
        tlsCertFile: options.tlsCertFile,
        tlsPrivateKeyFile: options.tlsPrivateKeyFile,
      },
      { handler, store, logger, metrics: usageSamples },
    ).catch(async (error: unknown) => {
      await serviceAllocator.stop();
      await app.close();
      await storage.stop();
      await usageSamples.close();
      throw error;
    });
  }
  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    logger,
    ...(nodeService ? { grpcPort: nodeService.port } : {}),
    usageSamples,
    compact: () => storage.compactor.runOnce(),
    close: () => {
      // Once: a caller that closes on error and again in its clean-up gets the same promise.
      closed ??= (async () => {
        closing = true;
        // Connections past their handshake are Fastify's to close (forceCloseConnections); those
        // still in it, and any accepted from now on, would keep app.close() waiting.
        handshakes.destroyAll();
        await nodeService?.close();
        await serviceAllocator.stop();
        namespaceCleanup.stop();
        await app.close();
        await storage.stop();
        await usageSamples.close();
      })();
      return closed;
    },
  };
}
