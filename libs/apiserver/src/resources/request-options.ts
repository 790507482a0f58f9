// Query parameters of resource requests, parsed once and checked, so handlers see typed options.
import {
  FieldMatcher,
  LabelMatcher,
  SelectorError,
  parseFieldSelector,
  parseLabelSelector,
  type KubeObject,
  type ResourceType,
} from '@flotilla/api';
import { apiErrors } from '../http/api-error';

export type Query = Record<string, string | string[] | undefined>;

export function queryValue(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function flag(query: Query, name: string): boolean {
  const value = queryValue(query, name);
  return value === 'true' || value === '1' || value === '';
}

function nonNegativeInteger(query: Query, name: string): number | undefined {
  const value = queryValue(query, name);
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw apiErrors.badRequest(`${name} must be a non-negative integer, got "${value}"`);
  }
  return Number(value);
}

export interface ReadOptions {
  /** undefined: the latest, read from etcd; 0: any, from the cache; N: not older than N. */
  resourceVersion?: number;
  exact: boolean;
  labels: LabelMatcher;
  fields: FieldMatcher;
  limit?: number;
  continueToken?: string;
  watch: boolean;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
}

export function parseReadOptions(query: Query, type: ResourceType): ReadOptions {
  const rv = queryValue(query, 'resourceVersion');
  if (rv !== undefined && rv !== '' && !/^\d+$/.test(rv)) {
    throw apiErrors.badRequest(`resourceVersion must be a number as returned by the server, got "${rv}"`);
  }
  let labels: LabelMatcher;
  let fields: FieldMatcher;
  try {
    labels = parseLabelSelector(queryValue(query, 'labelSelector') ?? '');
    fields = parseFieldSelector(queryValue(query, 'fieldSelector') ?? '', type.kind);
  } catch (error) {
    if (error instanceof SelectorError)
      throw apiErrors.badRequest(`unable to parse requirement: ${error.message}`);
    throw error;
  }
  const options: ReadOptions = {
    exact: queryValue(query, 'resourceVersionMatch') === 'Exact',
    labels,
    fields,
    watch: flag(query, 'watch'),
    allowBookmarks: flag(query, 'allowWatchBookmarks'),
  };
  if (rv !== undefined && rv !== '') options.resourceVersion = Number(rv);
  const limit = nonNegativeInteger(query, 'limit');
  if (limit) options.limit = limit;
  const token = queryValue(query, 'continue');
  if (token) options.continueToken = token;
  const timeout = nonNegativeInteger(query, 'timeoutSeconds');
  if (timeout !== undefined) options.timeoutSeconds = timeout;
  return options;
}

export function matchesSelectors(
  object: KubeObject,
  options: Pick<ReadOptions, 'labels' | 'fields'>,
): boolean {
  return options.labels.matches(object.metadata?.labels) && options.fields.matches(object);
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun: boolean;
  fieldManager?: string;
  fieldValidation: FieldValidation;
  force: boolean;
}

export function parseWriteOptions(query: Query): WriteOptions {
  const dryRun = queryValue(query, 'dryRun');
  if (dryRun !== undefined && dryRun !== 'All') {
    throw apiErrors.badRequest(`dryRun must be "All" when set, got "${dryRun}"`);
  }
  const validation = queryValue(query, 'fieldValidation') ?? 'Strict';
  if (validation !== 'Strict' && validation !== 'Warn' && validation !== 'Ignore') {
    throw apiErrors.badRequest(`fieldValidation must be Strict, Warn or Ignore, got "${validation}"`);
  }
  const fieldManager = queryValue(query, 'fieldManager');
  if (fieldManager !== undefined && (fieldManager.length > 128 || /[^\x20-\x7e]/.test(fieldManager))) {
    throw apiErrors.badRequest('fieldManager must be at most 128 printable ASCII characters');
  }
  const options: WriteOptions = {
    dryRun: dryRun === 'All',
    fieldValidation: validation,
    force: flag(query, 'force'),
  };
  if (fieldManager) options.fieldManager = fieldManager;
  return options;
}

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export interface DeleteOptions {
  dryRun: boolean;
  gracePeriodSeconds?: number;
  propagationPolicy: PropagationPolicy;
  preconditionUid?: string;
  preconditionResourceVersion?: string;
}

/** DELETE takes its options from the query string or from a DeleteOptions body; the body wins. */
export function parseDeleteOptions(query: Query, body: unknown): DeleteOptions {
  const fromBody = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const dryRunBody = Array.isArray(fromBody['dryRun']) && (fromBody['dryRun'] as unknown[]).includes('All');
  const options: DeleteOptions = {
    dryRun: dryRunBody || queryValue(query, 'dryRun') === 'All',
    propagationPolicy: 'Background',
  };
  const policy = fromBody['propagationPolicy'] ?? queryValue(query, 'propagationPolicy');
  if (policy !== undefined) {
    if (policy !== 'Background' && policy !== 'Foreground' && policy !== 'Orphan') {
      throw apiErrors.badRequest(
        `propagationPolicy must be Background, Foreground or Orphan, got "${String(policy)}"`,
      );
    }
    options.propagationPolicy = policy;
  }
  const grace = fromBody['gracePeriodSeconds'] ?? nonNegativeInteger(query, 'gracePeriodSeconds');
  if (grace !== undefined) {
    if (typeof grace !== 'number' || !Number.isSafeInteger(grace) || grace < 0) {
      throw apiErrors.badRequest('gracePeriodSeconds must be a non-negative integer');
    }
    options.gracePeriodSeconds = grace;
  }
  const preconditions = fromBody['preconditions'];
  if (typeof preconditions === 'object' && preconditions !== null) {
    const { uid, resourceVersion } = preconditions as Record<string, unknown>;
    if (typeof uid === 'string') options.preconditionUid = uid;
    if (typeof resourceVersion === 'string') options.preconditionResourceVersion = resourceVersion;
  }
  return options;
}
