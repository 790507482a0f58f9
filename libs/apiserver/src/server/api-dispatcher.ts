// Serves one /api or /apis request without any HTTP framework: discovery for the group-version
// roots, resources below them. Both the NestJS controller and the direct resource path of
// api-fast-path.ts use it, so the two cannot drift apart in authorization, errors or tables.
import type { KubeList, KubeObject } from '@flotilla/api';
import type { Authorizer } from '../auth/authorizer';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from '../discovery/discovery-documents';
import { apiErrors } from '../http/api-error';
import { includeObjectOf, listToTable, toTable, wantsTable } from '../http/table-output';
import { requestVerb, type ResourceHandler } from '../resources/resource-handler';
import { resolveResourcePath, type ResourceTarget } from '../resources/resource-path';
import { queryValue, type Query, type ReadOptions } from '../resources/request-options';
import type { ApiMetrics } from './api-metrics';
import type { RequestContext } from './request-context';

export interface ApiDependencies {
  handler: ResourceHandler;
  authorizer: Authorizer;
  metrics: ApiMetrics;
  serverAddress: string;
}

export interface ApiCall {
  method: string;
  url: string;
  query: Query;
  contentType: string | undefined;
  accept: string | undefined;
  rawBody: Buffer | undefined;
  /** Filled in with the verb and resource for metrics; carries the authenticated user. */
  context: RequestContext;
}

export type ApiOutcome =
  | {
      kind: 'json';
      code: number;
      body: unknown;
      warnings: string[];
      /** JSON.stringify(body) when it is at hand already. */
      json?: string;
    }
  | {
      kind: 'watch';
      target: ResourceTarget;
      options: ReadOptions;
      render?: (object: KubeObject) => object;
    };

/** The decoded path segments of a request URL: "/api/v1/namespaces/a%2Fb" → ["api", "v1", "namespaces", "a/b"]. */
export function segmentsOf(url: string): string[] {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  try {
    return path
      .split('/')
      .filter((segment) => segment !== '')
      .map((segment) => (segment.includes('%') ? decodeURIComponent(segment) : segment));
  } catch {
    throw apiErrors.badRequest(`the request path is not valid URL encoding: ${path}`);
  }
}

/** True for GET ...?watch=true, which streams instead of answering once. */
export function isWatchQuery(query: Query): boolean {
  return query['watch'] === 'true' || query['watch'] === '1';
}

export class ApiDispatcher {
  constructor(private readonly deps: ApiDependencies) {}

  get handler(): ResourceHandler {
    return this.deps.handler;
  }

  async dispatch(call: ApiCall): Promise<ApiOutcome> {
    const { url, query, context } = call;
    const segments = segmentsOf(url);
    const method = call.method.toUpperCase();
    const isApi = segments[0] === 'api';
    // /api, /api/v1, /apis, /apis/GROUP, /apis/GROUP/VERSION are discovery.
    const rootLength = isApi ? 2 : 3;
    if (segments.length <= rootLength) {
      if (method !== 'GET') throw apiErrors.methodNotAllowed(method, url);
      const document = this.discovery(segments, isApi);
      if (!document) throw apiErrors.pathNotFound(url);
      return { kind: 'json', code: 200, body: document, warnings: [] };
    }
    const group = isApi ? '' : (segments[1] ?? '');
    const version = isApi ? (segments[1] ?? '') : (segments[2] ?? '');
    const resolution = resolveResourcePath(group, version, segments.slice(rootLength));
    if (resolution.kind === 'not-found') throw apiErrors.pathNotFound(`${url}: ${resolution.reason}`);
    const { target } = resolution;
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
      contentType: call.contentType,
      rawBody: call.rawBody,
    });
    const table = method === 'GET' && target.subresource === undefined && wantsTable(call.accept);
    const include = includeObjectOf(queryValue(query, 'includeObject'));
    if (response.kind === 'object') {
      if (table && response.code === 200) {
        const body =
          target.name === undefined
            ? listToTable(target.type, response.body as KubeList, include)
            : toTable({ type: target.type, objects: [response.body as KubeObject], include });
        return { kind: 'json', code: response.code, body, warnings: response.warnings };
      }
      return {
        kind: 'json',
        code: response.code,
        body: response.body,
        warnings: response.warnings,
        ...(response.json !== undefined ? { json: response.json } : {}),
      };
    }
    return {
      kind: 'watch',
      target,
      options: response.options,
      ...(table
        ? { render: (object: KubeObject) => toTable({ type: target.type, objects: [object], include }) }
        : {}),
    };
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
