// CREATE, UPDATE (PUT), PATCH and DELETE, each one etcd transaction compared on resourceVersion.
// Writes never go through the cache: they read the live object from etcd, so a conflict is always
// decided by etcd, and a patch without a resourceVersion is retried on conflict as Kubernetes does.
import {
  apiVersionOf,
  kubeTimestamp,
  storageKey,
  type KubeObject,
  type ResourceType,
  type StatusCause,
} from '@flotilla/api';
import { StoreError, createdJson } from '@flotilla/store';
import { ApiError, apiErrors } from '../http/api-error';
import type { AllocationPlan, ServiceAllocator } from '../services/service-allocator';
import {
  generateName,
  prepareForCreate,
  prepareForUpdate,
  prepareStatusUpdate,
  readyToRemove,
} from './object-lifecycle';
import type { ObjectModel } from './object-model';
import type { DeleteOptions, WriteOptions } from './request-options';
import type { ResourceStorage } from './resource-storage';
import type { ResourceTarget } from './resource-path';
import { withTypeMeta } from './resource-reads';
import { sameJsonText } from './same-json.util';
import { storeErrorToApi } from './store-errors';

const GENERATE_NAME_ATTEMPTS = 8;
// A patch without a resourceVersion never fails on a concurrent write: it is re-applied to the newer
// object, as Kubernetes' GuaranteedUpdate does, for as long as a request may take. The pause after a
// few lost races lets a writer that updates the object in a tight loop (a controller's status) finish.
const PATCH_CONFLICT_DEADLINE_MS = 30_000;
const PATCH_CONFLICT_FREE_ATTEMPTS = 3;
const PATCH_CONFLICT_PAUSE_MS = 20;

export interface WriteResult {
  object: KubeObject;
  /** 201 for a create, 200 otherwise; 202 for a delete that waits on finalizers. */
  code: number;
  warnings: string[];
  /** JSON.stringify(object), when the store already wrote it (a create): no second serialization. */
  json?: string;
}

/** How mutate() reads the live object and what it records beside the change. */
export interface WriteHow {
  /** 'cache-first': start from the watch cache's copy (see mutate()). Default 'etcd'. */
  read?: 'etcd' | 'cache-first';
  /**
   * 'untouched': no managedFields entry for this write, as Kubernetes' binding subresource, which
   * writes the pod in storage directly (spec.nodeName is owned by no manager there either).
   * Default 'record'.
   */
  managedFields?: 'record' | 'untouched';
  /**
   * 'caller': the mutation changed only fields it has validated itself, on an object that was
   * validated when it was stored (a binding: spec.nodeName and PodScheduled), so the write skips
   * defaults, object validation and the generation bump, as Kubernetes' BindingREST does.
   * Default 'strategy': the kind's full update preparation and validation.
   */
  prepare?: 'strategy' | 'caller';
  /**
   * What the caller's last write of this object returned: used instead of the cache's copy when
   * newer (a writer that updates one object twice in a row would otherwise conflict).
   */
  written?: KubeObject;
}

/** A no-op found against a copy of the object (see commitUpdate's liveFromCopy): read etcd and redo. */
class UnconfirmedNoOp extends Error {}

export type Mutation = (live: KubeObject | undefined) => { object: KubeObject; create: boolean };

function asObject(body: unknown): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw apiErrors.badRequest('the request body must be a JSON or YAML object');
  }
  return body as KubeObject;
}

function revisionOf(object: KubeObject): number {
  return Number(object.metadata?.resourceVersion ?? 0);
}

export class ResourceWrites {
  constructor(
    private readonly storage: ResourceStorage,
    private readonly model: ObjectModel,
    /** Cluster IPs and node ports of Services; without it Services are stored as given. */
    private readonly services?: ServiceAllocator,
  ) {}

  private allocates(target: ResourceTarget): ServiceAllocator | undefined {
    return target.type.kind === 'Service' && target.type.group === '' && target.subresource === undefined
      ? this.services
      : undefined;
  }

  /** Checks apiVersion/kind and namespace of a body against the path it was sent to. */
  private checkBody(target: ResourceTarget, body: unknown, requireName: boolean): KubeObject {
    const object = asObject(body);
    const expected = apiVersionOf(target.type);
    if (object.apiVersion !== undefined && object.apiVersion !== expected) {
      throw apiErrors.badRequest(
        `the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${expected})`,
      );
    }
    if (object.kind !== undefined && object.kind !== target.type.kind) {
      throw apiErrors.badRequest(
        `the kind in the data (${String(object.kind)}) does not match the expected kind (${target.type.kind})`,
      );
    }
    const metadata = object.metadata ?? {};
    if (typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw apiErrors.badRequest('metadata must be an object');
    }
    if (
      target.type.namespaced &&
      metadata.namespace !== undefined &&
      metadata.namespace !== target.namespace
    ) {
      throw apiErrors.badRequest(
        `the namespace of the provided object (${metadata.namespace}) does not match the namespace sent on the request (${target.namespace ?? ''})`,
      );
    }
    if (
      requireName &&
      target.name !== undefined &&
      metadata.name !== undefined &&
      metadata.name !== target.name
    ) {
      throw apiErrors.badRequest(
        `the name of the object (${metadata.name}) does not match the name on the URL (${target.name})`,
      );
    }
    return { ...object, apiVersion: expected, kind: target.type.kind, metadata: { ...metadata } };
  }

  private async checkNamespace(target: ResourceTarget): Promise<void> {
    if (!target.type.namespaced || target.namespace === undefined) return;
    const namespaceType = this.model.namespaceType;
    const key = storageKey(namespaceType, undefined, target.namespace);
    const namespace =
      this.storage.cache(namespaceType).get(key) ??
      (await this.storage.store.get(key).catch(() => undefined));
    if (!namespace) throw apiErrors.notFound(namespaceType, target.namespace);
    if (namespace.metadata?.deletionTimestamp) {
      throw apiErrors.forbidden(
        `${target.type.plural} "${target.name ?? ''}" is forbidden: unable to create new content in namespace ` +
          `${target.namespace} because it is being terminated`,
      );
    }
  }

  /**
   * Validates `object` and returns it as it may be stored: with fieldValidation Strict an unknown
   * field is a 400 naming every one; with Warn and Ignore unknown fields are dropped (Warn says so).
   */
  private validate(
    target: ResourceTarget,
    object: KubeObject,
    options: WriteOptions,
    old?: KubeObject,
  ): { object: KubeObject; warnings: string[] } {
    const result = this.model.validate({
      type: target.type,
      object,
      old,
      fieldValidation: options.fieldValidation,
    });
    if (result.unknownFields.length > 0 && options.fieldValidation === 'Strict') {
      throw apiErrors.badRequest(
        `strict decoding error: ${result.unknownFields.map((field) => `unknown field "${field}"`).join(', ')}`,
      );
    }
    if (result.causes.length > 0) {
      throw apiErrors.invalid(target.type, object.metadata?.name ?? target.name ?? '', result.causes);
    }
    const stored =
      result.unknownFields.length > 0 ? this.model.pruneUnknown(object, result.unknownFields) : object;
    return { object: stored, warnings: result.warnings };
  }

  /**
   * A status write keeps the stored spec and metadata (prepareStatusUpdate), so, as Kubernetes'
   * status strategies do, it validates metadata update rules and the status, not the whole object.
   */
  private validateStatus(
    target: ResourceTarget,
    object: KubeObject,
    old: KubeObject,
  ): { object: KubeObject; warnings: string[] } {
    const result = this.model.validateStatus({ type: target.type, object, old });
    if (result.causes.length > 0) {
      throw apiErrors.invalid(target.type, object.metadata?.name ?? target.name ?? '', result.causes);
    }
    return { object, warnings: result.warnings };
  }

  /** `operation` Apply: the patcher has already recorded the applier's fields; keep them. */
  async create(
    target: ResourceTarget,
    body: unknown,
    options: WriteOptions,
    operation: 'Update' | 'Apply' = 'Update',
  ): Promise<WriteResult> {
    let object = this.checkBody(target, body, false);
    const metadata = object.metadata ?? {};
    const wantsGenerated =
      !metadata.name && typeof metadata.generateName === 'string' && metadata.generateName !== '';
    if (wantsGenerated) object.metadata = { ...metadata, name: generateName(metadata.generateName ?? '') };
    const validated = this.validate(
      { ...target, name: object.metadata?.name },
      this.model.defaults(target.type, object),
      options,
    );
    object = validated.object;
    const warnings = validated.warnings;
    await this.checkNamespace(target);
    const allocator = this.allocates(target);
    let plan: AllocationPlan | undefined;
    if (allocator) {
      plan = await allocator.forCreate({
        service: { ...object, metadata: { ...object.metadata, namespace: target.namespace } },
        ...(options.dryRun ? { dryRun: true } : {}),
      });
      object = { ...plan.object, metadata: object.metadata };
    }
    for (let attempt = 1; ; attempt++) {
      const fresh = prepareForCreate(object, { type: target.type, namespace: target.namespace });
      const prepared =
        operation === 'Apply'
          ? fresh
          : this.model.recordManagedFields({
              type: target.type,
              old: undefined,
              updated: fresh,
              manager: options.fieldManager ?? 'unknown',
              operation: 'Update',
            });
      const name = prepared.metadata?.name ?? '';
      const named = { ...target, name };
      if (options.dryRun) return { object: withTypeMeta(target, prepared), code: 201, warnings };
      try {
        const stored = await this.storage.store.create(
          storageKey(target.type, target.namespace, name),
          prepared,
        );
        const json = createdJson(stored);
        const answer = withTypeMeta(target, stored);
        // Same members in the same order (checkBody set both) serialize to the same JSON.
        const sameJson =
          json !== undefined && stored.apiVersion === answer.apiVersion && stored.kind === answer.kind;
        return { object: answer, code: 201, warnings, ...(sameJson ? { json } : {}) };
      } catch (error) {
        const retry = wantsGenerated && error instanceof StoreError && error.code === 'AlreadyExists';
        if (retry && attempt < GENERATE_NAME_ATTEMPTS && !plan) {
          object.metadata = { ...object.metadata, name: generateName(metadata.generateName ?? '') };
          continue;
        }
        // The claims name this Service: a Service that was never written must not keep them.
        if (allocator && plan) await allocator.release(plan.claimed);
        throw storeErrorToApi(error, named);
      }
    }
  }

  /** Reads the live object from etcd (never the cache: writes decide conflicts on etcd's view). */
  private async live(target: ResourceTarget): Promise<KubeObject | undefined> {
    return this.storage.store
      .get(storageKey(target.type, target.namespace, target.name ?? ''))
      .catch((error: unknown) => {
        throw storeErrorToApi(error, target);
      });
  }

  /** PUT of the main resource or of the status subresource. */
  async update(target: ResourceTarget, body: unknown, options: WriteOptions): Promise<WriteResult> {
    const object = this.checkBody(target, body, true);
    const requested = object.metadata?.resourceVersion;
    const live = await this.live(target);
    if (!live) {
      if (this.model.allowsCreateOnUpdate(target.type) && target.subresource === undefined) {
        return this.create(
          target,
          { ...object, metadata: { ...object.metadata, name: target.name } },
          options,
        );
      }
      throw apiErrors.notFound(target.type, target.name ?? '');
    }
    if (requested !== undefined && requested !== live.metadata?.resourceVersion) {
      throw apiErrors.conflict(
        target.type,
        target.name ?? '',
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    return this.commitUpdate(target, live, object, options);
  }

  /**
   * Validates and writes `updated` over `live`, comparing live's resourceVersion. `operation` Apply:
   * the patcher has already recorded the applier's fields; `managedFields: 'untouched'`: the write
   * records no manager at all (see WriteHow).
   */
  async commitUpdate(
    target: ResourceTarget,
    live: KubeObject,
    updated: KubeObject,
    options: WriteOptions,
    how: {
      operation?: 'Update' | 'Apply';
      managedFields?: WriteHow['managedFields'];
      prepare?: WriteHow['prepare'];
      /**
       * live is a copy (the watch cache's, or the caller's own last write) that etcd may have moved
       * past: a write found equal to it is not skipped but refused with UnconfirmedNoOp, for mutate
       * to compare against etcd's object, as Kubernetes' GuaranteedUpdate does with a cached state.
       */
      liveFromCopy?: boolean;
    } = {},
  ): Promise<WriteResult> {
    const operation = how.operation ?? 'Update';
    const kept = this.allocates(target)?.keepAllocated({ live, updated }) ?? updated;
    const validated =
      how.prepare === 'caller'
        ? { object: kept, warnings: [] }
        : target.subresource === 'status'
          ? this.validateStatus(target, prepareStatusUpdate(kept, live), live)
          : this.validate(
              target,
              prepareForUpdate(this.model.defaults(target.type, kept), live, target.type),
              options,
              live,
            );
    let prepared = validated.object;
    const warnings = validated.warnings;
    const allocator = readyToRemove(prepared) ? undefined : this.allocates(target);
    let plan: AllocationPlan | undefined;
    if (allocator) {
      plan = await allocator.forUpdate({
        live,
        updated: prepared,
        ...(options.dryRun ? { dryRun: true } : {}),
      });
      prepared = plan.object;
    }
    if (operation === 'Update' && how.managedFields !== 'untouched') {
      prepared = this.model.recordManagedFields({
        type: target.type,
        old: live,
        updated: prepared,
        manager: options.fieldManager ?? 'unknown',
        operation,
        ...(target.subresource ? { subresource: target.subresource } : {}),
      });
    }
    if (options.dryRun) return { object: withTypeMeta(target, prepared), code: 200, warnings };
    const key = storageKey(target.type, target.namespace, target.name ?? '');
    const revision = Number(live.metadata?.resourceVersion);
    try {
      if (readyToRemove(prepared)) {
        // The last finalizer is gone from an object being deleted: finish the deletion.
        const removed = await this.storage.store.delete(key, revision);
        await this.released(target, removed);
        return { object: withTypeMeta(target, removed), code: 200, warnings };
      }
      if (sameJsonText(prepared, live)) {
        // Equal to a copy is not equal to etcd: another writer may have changed the object since
        // (a report skipped here would be lost, as the agent sends each status only once).
        if (how.liveFromCopy === true) throw new UnconfirmedNoOp();
        // Kubernetes skips no-op writes: the resourceVersion does not move, watchers see nothing.
        return { object: withTypeMeta(target, live), code: 200, warnings };
      }
      const stored = await this.storage.store.update(key, prepared, revision);
      if (allocator && plan)
        await allocator.releaseKeys(plan.freed, {
          namespace: target.namespace ?? '',
          name: target.name ?? '',
        });
      return { object: withTypeMeta(target, stored), code: 200, warnings };
    } catch (error) {
      if (allocator && plan) await allocator.release(plan.claimed);
      if (error instanceof UnconfirmedNoOp) throw error;
      throw storeErrorToApi(error, target);
    }
  }

  /**
   * Read-modify-write with retries on conflict, for PATCH: `mutate` gets the live object (undefined
   * when it does not exist) and returns the desired one. With `read: 'cache-first'` the first try
   * starts from the watch cache's copy instead of an etcd read: the write still compares its
   * resourceVersion, so a stale copy costs a 409 and a retry from etcd (a missing one is read there).
   * With `written` (see WriteHow) the caller's own last write stands in for an older cached copy.
   */
  async mutate(
    target: ResourceTarget,
    options: WriteOptions,
    mutate: Mutation,
    operation: 'Update' | 'Apply',
    how: WriteHow = {},
  ): Promise<WriteResult> {
    const deadline = Date.now() + PATCH_CONFLICT_DEADLINE_MS;
    for (let attempt = 1; ; attempt++) {
      const cache = this.storage.cache(target.type);
      const fromCache =
        attempt === 1 && how.read === 'cache-first' && cache.ready
          ? cache.get(storageKey(target.type, target.namespace, target.name ?? ''))
          : undefined;
      // A caller's own last write may be newer than the cache, whose watch has not delivered it yet.
      const cached =
        fromCache && how.written && revisionOf(how.written) > revisionOf(fromCache) ? how.written : fromCache;
      const live = cached ?? (await this.live(target));
      const { object, create } = mutate(live);
      try {
        if (create || !live) {
          if (target.subresource !== undefined) throw apiErrors.notFound(target.type, target.name ?? '');
          return await this.create(target, object, options, operation);
        }
        return await this.commitUpdate(target, live, object, options, {
          operation,
          ...(how.managedFields ? { managedFields: how.managedFields } : {}),
          ...(how.prepare ? { prepare: how.prepare } : {}),
          ...(cached ? { liveFromCopy: true } : {}),
        });
      } catch (error) {
        // The next attempt reads etcd (only the first one starts from a copy).
        if (error instanceof UnconfirmedNoOp) continue;
        const conflict =
          error instanceof ApiError && error.code === 409 && error.status.reason === 'Conflict';
        if (!conflict || Date.now() >= deadline) throw error;
        if (attempt >= PATCH_CONFLICT_FREE_ATTEMPTS) {
          await new Promise((resolve) =>
            setTimeout(resolve, Math.random() * PATCH_CONFLICT_PAUSE_MS * attempt),
          );
        }
      }
    }
  }

  async delete(target: ResourceTarget, options: DeleteOptions): Promise<WriteResult> {
    const live = await this.live(target);
    if (!live) throw apiErrors.notFound(target.type, target.name ?? '');
    const metadata = live.metadata ?? {};
    if (options.preconditionUid !== undefined && options.preconditionUid !== metadata.uid) {
      throw apiErrors.conflict(
        target.type,
        target.name ?? '',
        `Precondition failed: UID in precondition: ${options.preconditionUid}, UID in object meta: ${metadata.uid ?? ''}`,
      );
    }
    if (
      options.preconditionResourceVersion !== undefined &&
      options.preconditionResourceVersion !== metadata.resourceVersion
    ) {
      throw apiErrors.conflict(
        target.type,
        target.name ?? '',
        `Precondition failed: ResourceVersion in precondition: ${options.preconditionResourceVersion}, ` +
          `ResourceVersion in object meta: ${metadata.resourceVersion ?? ''}`,
      );
    }
    const graceful = this.gracefulDeletion(target.type, live, options);
    const finalizers = [...(metadata.finalizers ?? [])];
    if (options.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    if (options.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) {
      finalizers.push('foregroundDeletion');
    }
    const key = storageKey(target.type, target.namespace, target.name ?? '');
    const revision = Number(metadata.resourceVersion);
    // Namespaces always pass through Terminating: their content is deleted before they go.
    const isNamespace = this.model.namespaceType === target.type;
    if (finalizers.length === 0 && graceful === undefined && !isNamespace) {
      if (options.dryRun) return { object: withTypeMeta(target, live), code: 200, warnings: [] };
      try {
        const removed = await this.storage.store.delete(key, revision);
        await this.released(target, removed);
        return { object: withTypeMeta(target, removed), code: 200, warnings: [] };
      } catch (error) {
        throw storeErrorToApi(error, target);
      }
    }
    // Finalizers (or a pod's grace period) keep the object until its owners let go of it.
    const marked: KubeObject = {
      ...live,
      metadata: {
        ...metadata,
        finalizers: finalizers.length > 0 ? finalizers : undefined,
        deletionTimestamp:
          metadata.deletionTimestamp ?? kubeTimestamp(new Date(Date.now() + (graceful ?? 0) * 1000)),
        deletionGracePeriodSeconds: graceful ?? 0,
      },
    };
    if (marked.metadata && marked.metadata.finalizers === undefined) delete marked.metadata.finalizers;
    if (isNamespace) {
      (marked as KubeObject & { status?: { phase?: string } }).status = {
        ...((live as { status?: object }).status ?? {}),
        phase: 'Terminating',
      };
    }
    if (options.dryRun) return { object: withTypeMeta(target, marked), code: 202, warnings: [] };
    try {
      const stored = await this.storage.store.update(key, marked, revision);
      return { object: withTypeMeta(target, stored), code: 202, warnings: [] };
    } catch (error) {
      throw storeErrorToApi(error, target);
    }
  }

  /** A deleted Service's cluster IP and node ports go back to the pool at once. */
  private async released(target: ResourceTarget, removed: KubeObject): Promise<void> {
    const allocator = this.allocates({ ...target, subresource: undefined });
    if (allocator) await allocator.releaseService(removed);
  }

  /** Pods bound to a node are deleted gracefully: the node agent stops them, then removes them. */
  private gracefulDeletion(type: ResourceType, live: KubeObject, options: DeleteOptions): number | undefined {
    if (type.kind !== 'Pod') return undefined;
    const spec =
      (live as { spec?: { nodeName?: string; terminationGracePeriodSeconds?: number } }).spec ?? {};
    const phase = (live as { status?: { phase?: string } }).status?.phase;
    if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return undefined;
    const grace = options.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
    return grace === 0 ? undefined : grace;
  }
}

export type { StatusCause };
