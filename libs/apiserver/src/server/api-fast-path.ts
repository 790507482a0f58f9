// The resource requests that make up nearly all of an apiserver's traffic (create, get, list,
// update, patch, delete of /api and /apis objects) are served here, straight from Node's request
// event, before Fastify and NestJS see them. Their hooks, content-type parser (an AsyncResource per
// body) and router execution context cost as much CPU per create as validation and storage
// together; the work itself is ApiDispatcher's, exactly as the framework route runs it.
//
// Anything unusual is declined and takes the framework path unchanged: watches (streamed), bodies
// without a Content-Length or over the limit (Fastify answers 413), upgrades, paths Fastify routes
// elsewhere (pods/log, pods/exec, metrics.k8s.io), and every request once the server is closing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import type { Logger } from 'pino';
import type { UserInfo } from '../auth/token-authenticator';
import { apiErrors } from '../http/api-error';
import { MAX_BODY_BYTES } from '../http/request-body';
import type { Query } from '../resources/request-options';
import { isWatchQuery, type ApiDispatcher } from './api-dispatcher';
import type { RequestContext } from './request-context';
import { toApiError } from './status-exception.filter';

/** Methods Fastify would parse a body for; GET never carries one here. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface ApiFastPathOptions {
  dispatcher: ApiDispatcher;
  authenticate: (authorization: string | undefined) => UserInfo | undefined;
  /** True when the framework would route this method and path to the generic /api or /apis route. */
  routesToApi: (method: string, path: string) => boolean;
  /** Stops taking requests (the server is closing: the framework answers 503 from then on). */
  closing: () => boolean;
  /** Metrics and the request log, as the framework's onResponse hook records them. */
  onFinished: (request: { method: string; url: string; statusCode: number; context: RequestContext }) => void;
  logger: Logger;
}

/** Returns a request listener that answers and returns true, or returns false to decline. */
export function createApiFastPath(
  options: ApiFastPathOptions,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  return (request, response) => {
    const url = request.url ?? '';
    const method = request.method ?? '';
    if (!url.startsWith('/api/') && !url.startsWith('/apis/')) return false;
    if (method !== 'GET' && !BODY_METHODS.has(method)) return false;
    const headers = request.headers;
    if (headers.upgrade !== undefined || headers['transfer-encoding'] !== undefined) return false;
    const lengthHeader = headers['content-length'];
    const length = lengthHeader === undefined ? 0 : Number(lengthHeader);
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BODY_BYTES) return false;
    // A body without a media type goes where Fastify decides what that means (415).
    if (length > 0 && method !== 'GET' && headers['content-type'] === undefined) return false;
    if (options.closing()) return false;
    const queryStart = url.indexOf('?');
    const path = queryStart < 0 ? url : url.slice(0, queryStart);
    const query: Query = queryStart < 0 ? {} : parseQueryString(url.slice(queryStart + 1));
    if (method === 'GET' && isWatchQuery(query)) return false;
    if (!options.routesToApi(method, path)) return false;
    const context: RequestContext = { started: process.hrtime.bigint() };
    const finish = (code: number, json: string, warnings: string[] = []): void => {
      if (response.headersSent) {
        if (!response.writableEnded) response.end();
      } else {
        const responseHeaders: Record<string, string | number | string[]> = {
          // What Fastify sends for a string payload, so both paths answer byte for byte alike.
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(json),
        };
        if (warnings.length > 0) {
          // RFC 7234 warning headers, as kubectl prints them: `Warning: 299 - "message"`.
          responseHeaders['warning'] = warnings.map((warning) => `299 - ${JSON.stringify(warning)}`);
        }
        response.writeHead(code, responseHeaders);
        response.end(json);
      }
      options.onFinished({ method, url, statusCode: code, context });
    };
    const user = options.authenticate(headers.authorization);
    if (!user) {
      // Not a word about the resource before authentication; the body is left unread.
      finish(401, JSON.stringify(apiErrors.unauthorized().status));
      return true;
    }
    context.user = user;
    const serve = async (rawBody: Buffer | undefined): Promise<void> => {
      try {
        const outcome = await options.dispatcher.dispatch({
          method,
          url,
          query,
          contentType: headers['content-type'],
          accept: headers.accept,
          rawBody,
          context,
        });
        if (outcome.kind !== 'json') {
          // Declined above (watch queries); reaching this is a bug, not the client's fault.
          throw new Error(`the fast path cannot stream a ${outcome.kind}`);
        }
        finish(outcome.code, outcome.json ?? JSON.stringify(outcome.body), outcome.warnings);
      } catch (error) {
        const failure = toApiError(error, url, options.logger);
        finish(failure.code, JSON.stringify(failure.status));
      }
    };
    if (method === 'GET' || length === 0) {
      void serve(undefined);
      return true;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    request.once('end', () => {
      // Node's parser ends the body at Content-Length; fewer bytes mean the client went away.
      if (received !== length) {
        finish(
          400,
          JSON.stringify(apiErrors.badRequest('the request body is shorter than its Content-Length').status),
        );
        return;
      }
      void serve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
    });
    request.once('error', () => response.destroy());
    return true;
  };
}
