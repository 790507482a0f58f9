// The pods/log and pods/exec subresources, served as raw Fastify routes beside the Nest controller
// because both stream: log as chunked text, exec as a WebSocket. Upgrade requests (which Node hands
// to an 'upgrade' listener, not to the router) are routed through Fastify too, so they pass the same
// authentication hook as every other request before anything is upgraded.
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  RESOURCE_TYPES,
  negotiateRemoteCommandProtocol,
  type Node,
  type Pod,
  type ResourceType,
} from '@flotilla/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authorizer } from '../auth/authorizer';
import { ApiError, apiErrors } from '../http/api-error';
import type { Query } from '../resources/request-options';
import type { ResourceReads } from '../resources/resource-reads';
import { contextOf } from '../server/request-context';
import { toApiError } from '../server/status-exception.filter';
import type { AgentDialer } from './agent-dialer';
import { bridgeExec } from './pod-exec.bridge';
import { streamPodLog } from './pod-log.stream';
import { parsePodExecQuery, parsePodLogQuery } from './pod-proxy.query';
import { agentEndpointOf, execTargetOf, logTargetOf, type PodTarget } from './pod-target';

export interface PodProxyDependencies {
  reads: ResourceReads;
  authorizer: Authorizer;
  dialer: AgentDialer;
  logger: Logger;
}

interface PodParams {
  namespace: string;
  name: string;
}

/** The socket and first bytes of an upgrade request, kept for the handler that upgrades it. */
const upgrades = new WeakMap<IncomingMessage, { socket: Duplex; head: Buffer }>();

function typeOf(plural: string): ResourceType {
  const type = RESOURCE_TYPES.find((candidate) => candidate.group === '' && candidate.plural === plural);
  if (!type) throw new Error(`the core resource ${plural} is not registered`);
  return type;
}

function sendStatus(reply: FastifyReply, error: ApiError): void {
  void reply.code(error.code).header('Content-Type', 'application/json').send(JSON.stringify(error.status));
}

export function registerPodProxyRoutes(fastify: FastifyInstance, deps: PodProxyDependencies): void {
  const pods = typeOf('pods');
  const nodes = typeOf('nodes');
  const sockets = new Set<WebSocket>();
  const webSockets = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => negotiateRemoteCommandProtocol([...offered]) ?? false,
  });

  /** Authenticated (by the onRequest hook) and authorized for this subresource, or throws. */
  const authorize = (request: FastifyRequest, subresource: 'log' | 'exec', params: PodParams): void => {
    const context = contextOf(request.raw);
    // Kubernetes authorizes exec as create (it starts something), log as get.
    const verb = subresource === 'exec' ? 'create' : 'get';
    context.verb = verb;
    context.resource = `pods/${subresource}`;
    if (!context.user) throw apiErrors.unauthorized();
    const decision = deps.authorizer.authorize({
      user: context.user,
      verb,
      group: '',
      resource: 'pods',
      subresource,
      namespace: params.namespace,
      name: params.name,
    });
    if (!decision.allowed) {
      throw apiErrors.forbidden(
        `pods "${params.name}" is forbidden: User "${context.user.name}" cannot ${verb} resource "pods/${subresource}" in the namespace "${params.namespace}": ${decision.reason}`,
      );
    }
  };

  const locate = async (
    params: PodParams,
    targetOf: (pod: Pod) => PodTarget,
  ): Promise<{ target: PodTarget; endpoint: string }> => {
    const pod = (await deps.reads.get(
      { type: pods, namespace: params.namespace, name: params.name },
      {},
    )) as unknown as Pod;
    const target = targetOf(pod);
    const node = (await deps.reads.get({ type: nodes, name: target.nodeName }, {}).catch((error: unknown) => {
      if (error instanceof ApiError && error.code === 404) {
        throw apiErrors.unavailable(
          `pod "${target.pod}" is bound to node "${target.nodeName}", which is not registered: is its node agent running?`,
        );
      }
      throw error;
    })) as unknown as Node;
    return { target, endpoint: agentEndpointOf(node) };
  };

  fastify.route<{ Params: PodParams; Querystring: Query }>({
    method: 'GET',
    url: '/api/v1/namespaces/:namespace/pods/:name/log',
    handler: async (request, reply) => {
      try {
        authorize(request, 'log', request.params);
        const query = parsePodLogQuery(request.query, request.params.name, new Date());
        const { target, endpoint } = await locate(request.params, (pod) => logTargetOf(pod, query.container));
        const client = deps.dialer.clientFor(endpoint);
        reply.hijack();
        await streamPodLog({
          client,
          target,
          endpoint,
          query,
          response: reply.raw,
          sendError: (error) => {
            reply.raw.writeHead(error.code, { 'Content-Type': 'application/json' });
            reply.raw.end(JSON.stringify(error.status));
          },
        });
      } catch (error) {
        sendStatus(reply, toApiError(error, request.url, deps.logger));
      }
    },
  });

  fastify.route<{ Params: PodParams; Querystring: Query }>({
    method: ['GET', 'POST'],
    url: '/api/v1/namespaces/:namespace/pods/:name/exec',
    handler: async (request, reply) => {
      try {
        authorize(request, 'exec', request.params);
        const query = parsePodExecQuery(request.query);
        // Before the transport checks: kubectl retries a refused WebSocket over SPDY, and the user
        // should see why the first attempt failed (no such pod, no host), not that SPDY is unsupported.
        const { target, endpoint } = await locate(request.params, (pod) =>
          execTargetOf(pod, query.container),
        );
        const upgrade = upgrades.get(request.raw);
        const kind = String(request.headers.upgrade ?? '').toLowerCase();
        if (!upgrade || kind !== 'websocket') {
          throw apiErrors.badRequest(
            kind.startsWith('spdy')
              ? 'Flotilla serves pods/exec over WebSocket (v5.channel.k8s.io, v4.channel.k8s.io), not SPDY: use kubectl 1.30 or newer, or flotilla exec'
              : 'Upgrade request required: pods/exec is a WebSocket (v5.channel.k8s.io, v4.channel.k8s.io)',
          );
        }
        const offered = String(request.headers['sec-websocket-protocol'] ?? '')
          .split(',')
          .filter((protocol) => protocol.trim() !== '');
        if (negotiateRemoteCommandProtocol(offered) === undefined) {
          throw apiErrors.badRequest(
            `the client offered WebSocket subprotocols [${offered.join(', ')}]; Flotilla serves exec over v5.channel.k8s.io and v4.channel.k8s.io`,
          );
        }
        const client = deps.dialer.clientFor(endpoint);
        reply.hijack();
        webSockets.handleUpgrade(request.raw, upgrade.socket, upgrade.head, (socket) => {
          sockets.add(socket);
          bridgeExec({ socket, client, target, endpoint, query, onClosed: () => sockets.delete(socket) });
        });
      } catch (error) {
        sendStatus(reply, toApiError(error, request.url, deps.logger));
      }
    },
  });

  fastify.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node takes its own error handling off an upgraded socket; a reset must not crash the server.
    socket.on('error', () => socket.destroy());
    upgrades.set(request, { socket, head });
    const response = new ServerResponse(request);
    response.assignSocket(socket as Parameters<ServerResponse['assignSocket']>[0]);
    // Answered without an upgrade (refused, or not an exec): this connection carries nothing more.
    response.on('finish', () => socket.destroy());
    fastify.routing(request, response);
  });

  fastify.addHook('preClose', (done) => {
    for (const socket of sockets) socket.terminate();
    webSockets.close();
    deps.dialer.close();
    done();
  });
}
