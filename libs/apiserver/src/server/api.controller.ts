// The one NestJS route for /api and /apis: a thin adapter over ApiDispatcher. The hot resource
// requests reach the dispatcher before Fastify (api-fast-path.ts); this route serves the rest
// (watches, chunked or oversized bodies) and every request when the fast path declines.
import { All, Controller, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, apiErrors } from '../http/api-error';
import type { Query } from '../resources/request-options';
import { ApiDispatcher, type ApiDependencies } from './api-dispatcher';
import { contextOf } from './request-context';
import { streamWatch } from './watch-stream';
import { API_DEPENDENCIES } from './tokens';

export type { ApiDependencies } from './api-dispatcher';

export function sendJson(
  reply: FastifyReply,
  code: number,
  body: unknown,
  warnings: string[] = [],
  json?: string,
): void {
  if (warnings.length > 0) {
    // RFC 7234 warning headers, as kubectl prints them: `Warning: 299 - "message"`.
    void reply.header(
      'Warning',
      warnings.map((warning) => `299 - ${JSON.stringify(warning)}`),
    );
  }
  void reply
    .code(code)
    .header('Content-Type', 'application/json')
    .send(json ?? JSON.stringify(body));
}

@Controller()
export class ApiController {
  private readonly dispatcher: ApiDispatcher;

  constructor(@Inject(API_DEPENDENCIES) private readonly deps: ApiDependencies) {
    this.dispatcher = new ApiDispatcher(deps);
  }

  @All(['api', 'api/*', 'apis', 'apis/*'])
  async serve(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const outcome = await this.dispatcher.dispatch({
      method: request.method,
      url: request.url,
      query: request.query as Query,
      contentType: request.headers['content-type'],
      accept: request.headers.accept,
      rawBody: Buffer.isBuffer(request.body) ? request.body : undefined,
      context: contextOf(request.raw),
    });
    if (outcome.kind === 'json') {
      sendJson(reply, outcome.code, outcome.body, outcome.warnings, outcome.json);
      return;
    }
    reply.hijack();
    const gauge = this.deps.metrics.watchers.labels(outcome.target.type.plural);
    gauge.inc();
    try {
      await streamWatch({
        handler: this.deps.handler,
        target: outcome.target,
        options: outcome.options,
        response: reply.raw,
        ...(outcome.render ? { render: outcome.render } : {}),
        onClosed: () => gauge.dec(),
      });
    } catch (error) {
      // Headers are out: report the failure as the stream's last event, as kube-apiserver does.
      const status = error instanceof ApiError ? error.status : apiErrors.internal(String(error)).status;
      if (!reply.raw.writableEnded) reply.raw.end(JSON.stringify({ type: 'ERROR', object: status }) + '\n');
    }
  }
}
