// The one route for /api and /apis: discovery for the group-version roots, resources below them.
import { All, Controller, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authorizer } from '../auth/authorizer';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from '../discovery/discovery-documents';
import { ApiError, apiErrors } from '../http/api-error';
import { requestVerb, type ResourceHandler } from '../resources/resource-handler';
import { resolveResourcePath } from '../resources/resource-path';
import { queryValue, type Query } from '../resources/request-options';
import { includeObjectOf, listToTable, toTable, wantsTable } from '../http/table-output';
import type { KubeList, KubeObject } from '@flotilla/api';
import type { ApiMetrics } from './api-metrics';
import { contextOf } from './request-context';
import { streamWatch } from './watch-stream';
import { API_DEPENDENCIES } from './tokens';

export interface ApiDependencies {
  handler: ResourceHandler;
  authorizer: Authorizer;
  metrics: ApiMetrics;
  serverAddress: string;
}

function segmentsOf(url: string): string[] {
  const path = url.split('?')[0] ?? '';
  try {
    return path
      .split('/')
      .filter((segment) => segment !== '')
      .map((segment) => decodeURIComponent(segment));
  } catch {
    throw apiErrors.badRequest(`the request path is not valid URL encoding: ${path}`);
  }
}

export function sendJson(reply: FastifyReply, code: number, body: unknown, warnings: string[] = []): void {
  if (warnings.length > 0) {
    // RFC 7234 warning headers, as kubectl prints them: `Warning: 299 - "message"`.
    void reply.header(
      'Warning',
      warnings.map((warning) => `299 - ${JSON.stringify(warning)}`),
    );
  }
  void reply.code(code).header('Content-Type', 'application/json').send(JSON.stringify(body));
}

@Controller()
export class ApiController {
  constructor(@Inject(API_DEPENDENCIES) private readonly deps: ApiDependencies) {}

  @All(['api', 'api/*', 'apis', 'apis/*'])
  async serve(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const segments = segmentsOf(request.url);
    const method = request.method.toUpperCase();
    const isApi = segments[0] === 'api';
    // /api, /api/v1, /apis, /apis/GROUP, /apis/GROUP/VERSION are discovery.
    const rootLength = isApi ? 2 : 3;
    if (segments.length <= rootLength) {
      if (method !== 'GET') throw apiErrors.methodNotAllowed(method, request.url);
      const document = this.discovery(segments, isApi);
      if (!document) throw apiErrors.pathNotFound(request.url);
      sendJson(reply, 200, document);
      return;
    }
    const group = isApi ? '' : (segments[1] ?? '');
    const version = isApi ? (segments[1] ?? '') : (segments[2] ?? '');
    const resolution = resolveResourcePath(group, version, segments.slice(rootLength));
    if (resolution.kind === 'not-found') throw apiErrors.pathNotFound(`${request.url}: ${resolution.reason}`);
    const { target } = resolution;
    const query = request.query as Query;
    const context = contextOf(request.raw);
    const verb = requestVerb(method, target, query);
    context.verb = verb;
    context.resource = target.subresource
      ? `${target.type.plural}/${target.subresource}`
      : target.type.plural;
    if (!context.user) throw apiErrors.unauthorized();
    const decision = this.deps.authorizer.authorize({
      user: context.user,
      verb,
      group,
      resource: target.type.plural,
      ...(target.subresource ? { subresource: target.subresource } : {}),
      ...(target.namespace ? { namespace: target.namespace } : {}),
      ...(target.name ? { name: target.name } : {}),
    });
    if (!decision.allowed) {
      throw apiErrors.forbidden(
        `${target.type.plural} is forbidden: User "${context.user.name}" cannot ${verb} resource "${target.type.plural}": ${decision.reason}`,
      );
    }
    const response = await this.deps.handler.handle({
      method,
      target,
      query,
      contentType: request.headers['content-type'],
      rawBody: Buffer.isBuffer(request.body) ? request.body : undefined,
    });
    const table = method === 'GET' && target.subresource === undefined && wantsTable(request.headers.accept);
    const include = includeObjectOf(queryValue(query, 'includeObject'));
    if (response.kind === 'object') {
      let body = response.body;
      if (table && response.code === 200) {
        body =
          target.name === undefined
            ? listToTable(target.type, body as KubeList, include)
            : toTable({ type: target.type, objects: [body as KubeObject], include });
      }
      sendJson(reply, response.code, body, response.warnings);
      return;
    }
    reply.hijack();
    const gauge = this.deps.metrics.watchers.labels(target.type.plural);
    gauge.inc();
    try {
      await streamWatch({
        handler: this.deps.handler,
        target,
        options: response.options,
        response: reply.raw,
        ...(table
          ? { render: (object: KubeObject) => toTable({ type: target.type, objects: [object], include }) }
          : {}),
        onClosed: () => gauge.dec(),
      });
    } catch (error) {
      // Headers are out: report the failure as the stream's last event, as kube-apiserver does.
      const status = error instanceof ApiError ? error.status : apiErrors.internal(String(error)).status;
      if (!reply.raw.writableEnded) reply.raw.end(JSON.stringify({ type: 'ERROR', object: status }) + '\n');
    }
  }

  private discovery(segments: string[], isApi: boolean): object | undefined {
    if (isApi) {
      if (segments.length === 1) return apiVersions(this.deps.serverAddress);
      return segments[1] === 'v1' ? apiResourceList('', 'v1') : undefined;
    }
    if (segments.length === 1) return apiGroupList();
    if (segments.length === 2) return apiGroup(segments[1] ?? '');
    return apiResourceList(segments[1] ?? '', segments[2] ?? '');
  }
}
