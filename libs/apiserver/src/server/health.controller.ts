// Health, version, metrics and OpenAPI: the non-resource paths kubectl and operators use.
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SERVER_VERSION } from '../discovery/discovery-documents';
import { apiErrors } from '../http/api-error';
import type { ApiMetrics } from './api-metrics';
import { sendJson } from './api.controller';
import { HEALTH_DEPENDENCIES } from './tokens';

export interface HealthDependencies {
  metrics: ApiMetrics;
  /** True when every watch cache is synced and etcd answers. */
  ready: () => Promise<boolean>;
  openApi: {
    paths: () => Record<string, { serverRelativeURL: string }>;
    document: (groupVersion: string) => object | undefined;
  };
}

@Controller()
export class HealthController {
  constructor(@Inject(HEALTH_DEPENDENCIES) private readonly deps: HealthDependencies) {}

  @Get(['healthz', 'livez'])
  live(@Res() reply: FastifyReply): void {
    void reply.code(200).header('Content-Type', 'text/plain').send('ok');
  }

  @Get('readyz')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const ready = await this.deps.ready();
    void reply
      .code(ready ? 200 : 503)
      .header('Content-Type', 'text/plain')
      .send(ready ? 'ok' : 'not ready: etcd unreachable or watch caches still syncing');
  }

  @Get('version')
  version(@Res() reply: FastifyReply): void {
    sendJson(reply, 200, SERVER_VERSION);
  }

  @Get('metrics')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    const text = await this.deps.metrics.registry.metrics();
    void reply.code(200).header('Content-Type', this.deps.metrics.registry.contentType).send(text);
  }

  @Get('openapi/v3')
  openApiIndex(@Res() reply: FastifyReply): void {
    sendJson(reply, 200, { paths: this.deps.openApi.paths() });
  }

  @Get('openapi/v3/*')
  openApiGroupVersion(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    const groupVersion = (request.url.split('?')[0] ?? '').replace(/^\/openapi\/v3\//, '');
    const document = this.deps.openApi.document(groupVersion);
    if (!document) throw apiErrors.pathNotFound(request.url);
    sendJson(reply, 200, document);
  }
}
