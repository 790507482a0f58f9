// Dispatches one resource request (method + target) to reads and writes, framework-free so the HTTP
// layer stays a thin adapter. Subresources scale and binding are views over their parent object.
import { labelSelectorMatcher, type KubeObject, type Status, type WatchEvent } from '@flotilla/api';
import type { CacheWatch } from '@flotilla/store';
import { apiErrors, successStatus } from '../http/api-error';
import { PATCH_TYPES, decodeBody, bodyFormat, mediaType, type PatchType } from '../http/request-body';
import type { Patcher } from './object-patcher';
import { bindingTarget, boundPod } from './pod-binding';
import {
  parseDeleteOptions,
  parseReadOptions,
  parseWriteOptions,
  type Query,
  type ReadOptions,
  type WriteOptions,
} from './request-options';
import type { ResourceReads } from './resource-reads';
import type { ResourceTarget } from './resource-path';
import type { ResourceWrites, WriteResult } from './resource-writes';

export interface ResourceRequest {
  method: string;
  target: ResourceTarget;
  query: Query;
  contentType: string | undefined;
  rawBody: Buffer | undefined;
}

export type ResourceResponse =
  | {
      kind: 'object';
      code: number;
      body: KubeObject | Status | object;
      warnings: string[];
      /** JSON.stringify(body) when it is at hand already. */
      json?: string;
    }
  | { kind: 'watch'; options: ReadOptions };

export interface WatchSink {
  /**
   * `source`: the watch cache's object the event's object was made from (with its type meta set).
   * Every watcher of a cache event gets the same one, so a wire encoding of it can be shared.
   */
  send: (event: WatchEvent, source?: KubeObject) => void;
  end: () => void;
}

/** The verb Kubernetes' authorizer sees for a request, e.g. "list" for GET on a collection. */
export function requestVerb(method: string, target: ResourceTarget, query: Query): string {
  const collection = target.name === undefined;
  const watching = query['watch'] === 'true' || query['watch'] === '1';
  switch (method) {
    case 'GET':
      return watching ? 'watch' : collection ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return collection ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

function decodeRequestBody(request: ResourceRequest): unknown {
  const media = mediaType(request.contentType);
  const format = bodyFormat(media);
  if (!format) throw apiErrors.unsupportedMediaType(request.contentType ?? '');
  return decodeBody(request.rawBody ?? Buffer.alloc(0), format);
}

function objectResponse(result: WriteResult): ResourceResponse {
  return {
    kind: 'object',
    code: result.code,
    body: result.object,
    warnings: result.warnings,
    ...(result.json !== undefined ? { json: result.json } : {}),
  };
}

interface ScaleSpec {
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  status?: { replicas?: number };
}

/** The autoscaling/v1 Scale view of a Deployment or ReplicaSet. */
export function scaleOf(object: KubeObject): KubeObject {
  const workload = object as KubeObject & ScaleSpec;
  const metadata = object.metadata ?? {};
  const selector = workload.spec?.selector;
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      uid: metadata.uid,
      resourceVersion: metadata.resourceVersion,
      creationTimestamp: metadata.creationTimestamp,
    },
    spec: { replicas: workload.spec?.replicas ?? 0 },
    status: {
      replicas: workload.status?.replicas ?? 0,
      selector: selector ? labelSelectorMatcher(selector).toString() : '',
    },
  } as KubeObject;
}

function replicasFromScale(scale: unknown): number {
  const replicas = (scale as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
  if (typeof replicas !== 'number' || !Number.isSafeInteger(replicas) || replicas < 0) {
    throw apiErrors.invalid({ group: 'autoscaling', kind: 'Scale' }, '', [
      { reason: 'FieldValueInvalid', message: 'must be greater than or equal to 0', field: 'spec.replicas' },
    ]);
  }
  return replicas;
}

export class ResourceHandler {
  constructor(
    private readonly reads: ResourceReads,
    private readonly writes: ResourceWrites,
    private readonly patcher: Patcher,
  ) {}

  async handle(request: ResourceRequest): Promise<ResourceResponse> {
    const { method, target } = request;
    switch (target.subresource) {
      case 'scale':
        return this.scale(request);
      case 'binding':
        if (method !== 'POST') throw apiErrors.methodNotAllowed(method, 'pods/binding');
        return this.bind(request);
      case 'log':
      case 'exec':
        throw apiErrors.unavailable(
          `pods/${target.subresource} is served once node agents run pods; no agent serves this pod yet`,
        );
      default:
        break;
    }
    switch (method) {
      case 'GET': {
        const options = parseReadOptions(request.query, target.type);
        if (options.watch) return { kind: 'watch', options };
        if (target.name === undefined) {
          const list = await this.reads.list(target, options);
          return { kind: 'object', code: 200, body: list, warnings: [] };
        }
        return { kind: 'object', code: 200, body: await this.reads.get(target, options), warnings: [] };
      }
      case 'POST':
        if (target.name !== undefined)
          throw apiErrors.methodNotAllowed('POST', 'a named object; use PUT or PATCH');
        return objectResponse(
          await this.writes.create(target, decodeRequestBody(request), parseWriteOptions(request.query)),
        );
      case 'PUT':
        if (target.name === undefined) throw apiErrors.methodNotAllowed('PUT', 'a collection');
        return objectResponse(
          await this.writes.update(target, decodeRequestBody(request), parseWriteOptions(request.query)),
        );
      case 'PATCH':
        if (target.name === undefined) throw apiErrors.methodNotAllowed('PATCH', 'a collection');
        return objectResponse(await this.patch(request, parseWriteOptions(request.query)));
      case 'DELETE':
        return this.delete(request);
      default:
        throw apiErrors.methodNotAllowed(method, target.type.plural);
    }
  }

  /**
   * One object's read-modify-write for an in-process writer (the node service's pod status, Node
   * and Lease writes): no request body to encode and decode again, and with `read: 'cache-first'`
   * the first try starts from the watch cache's copy instead of an etcd read. The write still
   * compares that copy's resourceVersion in etcd, so a stale copy costs a conflict and a retry from
   * etcd (with `change` applied to the newer object), never a lost update. An absent object is 404.
   * `written`: the caller's last write of this object, used instead of the cache's copy when newer.
   */
  async modify(
    target: ResourceTarget,
    options: { fieldManager: string; read: 'etcd' | 'cache-first'; written?: KubeObject },
    change: (live: KubeObject) => KubeObject,
  ): Promise<KubeObject> {
    const result = await this.writes.mutate(
      target,
      parseWriteOptions({ fieldManager: options.fieldManager }),
      (live) => {
        if (!live) throw apiErrors.notFound(target.type, target.name ?? '');
        return { object: change(live), create: false };
      },
      'Update',
      { read: options.read, ...(options.written ? { written: options.written } : {}) },
    );
    return result.object;
  }

  watch(target: ResourceTarget, options: ReadOptions, sink: WatchSink): Promise<CacheWatch> {
    return this.reads.watch(target, options, sink);
  }

  cacheRevision(target: ResourceTarget): number {
    return this.reads.cacheRevision(target);
  }

  private patchTypeOf(request: ResourceRequest): PatchType {
    const media = mediaType(request.contentType);
    const patchType = (PATCH_TYPES as Record<string, PatchType | undefined>)[media];
    if (!patchType) throw apiErrors.unsupportedMediaType(request.contentType ?? '');
    return patchType;
  }

  private async patch(request: ResourceRequest, options: WriteOptions): Promise<WriteResult> {
    const patchType = this.patchTypeOf(request);
    const body = decodeRequestBody(request);
    if (patchType === 'apply' && !options.fieldManager) {
      throw apiErrors.badRequest(
        'PATCH with application/apply-patch+yaml requires a fieldManager query parameter',
      );
    }
    const manager = options.fieldManager ?? 'unknown';
    return this.writes.mutate(
      request.target,
      options,
      (live) => {
        if (!live && patchType !== 'apply')
          throw apiErrors.notFound(request.target.type, request.target.name ?? '');
        const object = this.patcher.patch({
          type: request.target.type,
          patchType,
          live,
          patch: body,
          manager,
          force: options.force,
          now: new Date(),
        });
        // A resourceVersion in the patch is a precondition, as in Kubernetes: a stale one is refused
        // (not retried, it would never match), while a patch without one is re-applied on conflicts.
        const requested = object.metadata?.resourceVersion;
        if (live && requested && requested !== live.metadata?.resourceVersion) {
          throw apiErrors.conflict(
            request.target.type,
            request.target.name ?? '',
            'the object has been modified; please apply your changes to the latest version and try again',
          );
        }
        return { object, create: live === undefined };
      },
      patchType === 'apply' ? 'Apply' : 'Update',
    );
  }

  private async scale(request: ResourceRequest): Promise<ResourceResponse> {
    const parent = { ...request.target };
    delete parent.subresource;
    if (request.method === 'GET') {
      return { kind: 'object', code: 200, body: scaleOf(await this.reads.get(parent, {})), warnings: [] };
    }
    const options = parseWriteOptions(request.query);
    let replicasFromPatch: ((live: KubeObject) => number) | undefined;
    if (request.method === 'PUT') {
      const replicas = replicasFromScale(decodeRequestBody(request));
      replicasFromPatch = () => replicas;
    } else if (request.method === 'PATCH') {
      const patchType = this.patchTypeOf(request);
      const body = decodeRequestBody(request);
      replicasFromPatch = (live) =>
        replicasFromScale(
          this.patcher.patch({
            type: { ...parent.type, kind: 'Scale', group: 'autoscaling', version: 'v1' },
            patchType,
            live: scaleOf(live),
            patch: body,
            manager: options.fieldManager ?? 'unknown',
            force: options.force,
            now: new Date(),
          }),
        );
    } else {
      throw apiErrors.methodNotAllowed(request.method, `${parent.type.plural}/scale`);
    }
    const compute = replicasFromPatch;
    const result = await this.writes.mutate(
      // The subresource names the managedFields entry: the writer owns spec.replicas "via scale", as
      // Kubernetes records it (an HPA's ownership of the count shows as subresource: scale).
      { ...parent, subresource: 'scale' },
      options,
      (live) => {
        if (!live) throw apiErrors.notFound(parent.type, parent.name ?? '');
        const spec = { ...((live as { spec?: object }).spec ?? {}), replicas: compute(live) };
        return { object: { ...live, spec } as KubeObject, create: false };
      },
      'Update',
    );
    return { kind: 'object', code: 200, body: scaleOf(result.object), warnings: result.warnings };
  }

  private async bind(request: ResourceRequest): Promise<ResourceResponse> {
    const nodeName = bindingTarget(decodeRequestBody(request), request.target.name ?? '');
    const parent = { ...request.target };
    delete parent.subresource;
    const options = parseWriteOptions(request.query);
    await this.writes.mutate(
      parent,
      options,
      (live) => {
        if (!live) throw apiErrors.notFound(parent.type, parent.name ?? '');
        const object = boundPod({
          live,
          nodeName,
          now: new Date(),
          conflict: (why) => apiErrors.conflict(parent.type, parent.name ?? '', why),
        });
        return { object, create: false };
      },
      'Update',
      // A binding is conditional on the pod's resourceVersion anyway: start from the cached pod and
      // save an etcd read per bind (the cache is rarely behind the scheduler's informer). Like
      // Kubernetes' BindingREST it writes the pod in storage past the field manager and the update
      // strategy (see pod-binding.ts): no managedFields entry, no second validation of the pod.
      { read: 'cache-first', managedFields: 'untouched', prepare: 'caller' },
    );
    return { kind: 'object', code: 201, body: successStatus(), warnings: [] };
  }

  private async delete(request: ResourceRequest): Promise<ResourceResponse> {
    const body = request.rawBody && request.rawBody.length > 0 ? decodeRequestBody(request) : undefined;
    const options = parseDeleteOptions(request.query, body);
    const { target } = request;
    if (target.name !== undefined) {
      const result = await this.writes.delete(target, options);
      return objectResponse(result);
    }
    // deletecollection: every matching object, each deleted as a single DELETE would.
    const readOptions = parseReadOptions(request.query, target.type);
    const list = await this.reads.list(target, { ...readOptions, watch: false });
    for (const item of list.items) {
      const name = item.metadata?.name ?? '';
      await this.writes
        .delete({ ...target, namespace: item.metadata?.namespace ?? target.namespace, name }, options)
        .catch((error: unknown) => {
          if ((error as { code?: number }).code !== 404) throw error;
        });
    }
    return { kind: 'object', code: 200, body: successStatus(), warnings: [] };
  }
}
