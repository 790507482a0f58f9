// Renders every failure as a Kubernetes Status: our ApiErrors as they are, Nest's own (unknown
// route) as 404, anything else as a 500 that is logged with its stack.
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiError, apiErrors } from '../http/api-error';
import { MAX_BODY_BYTES } from '../http/request-body';

const TOO_LARGE = `Request entity too large: limit is ${MAX_BODY_BYTES} bytes`;

export function toApiError(error: unknown, path: string, logger: Logger): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HttpException) {
    switch (error.getStatus()) {
      case 404:
        return apiErrors.pathNotFound(path);
      case 413:
        return apiErrors.tooLarge(TOO_LARGE);
      case 415:
        return apiErrors.unsupportedMediaType('');
      default:
        return apiErrors.badRequest(error.message);
    }
  }
  const fastifyCode = (error as { statusCode?: number; code?: string }).statusCode;
  const code = (error as { code?: string }).code;
  if (fastifyCode === 413 || code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return apiErrors.tooLarge(TOO_LARGE);
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return apiErrors.unsupportedMediaType('');
  if (fastifyCode !== undefined && fastifyCode >= 400 && fastifyCode < 500) {
    return apiErrors.badRequest((error as Error).message);
  }
  logger.error({ err: error, path }, 'unhandled error');
  return apiErrors.internal(error instanceof Error ? error.message : String(error));
}

@Catch()
export class StatusExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const error = toApiError(exception, request.url, this.logger);
    if (reply.sent || reply.raw.headersSent) {
      if (!reply.raw.writableEnded) reply.raw.end();
      return;
    }
    void reply.code(error.code).header('Content-Type', 'application/json').send(JSON.stringify(error.status));
  }
}
