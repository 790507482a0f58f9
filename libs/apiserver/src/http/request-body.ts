// Decoding of request bodies is hostile-input code: a body may be nested a million levels deep or be
// a YAML "billion laughs". Both are refused before they can exhaust the stack or memory, with a 400
// that says why, and the server stays healthy.
import { parseAllDocuments } from 'yaml';
import { ApiError, apiErrors } from './api-error';

/** Real objects nest a few dozen levels; Kubernetes' own decoders stop at 10000. */
export const MAX_BODY_DEPTH = 1000;
/** The most alias expansions a YAML body may contain (the yaml package's own default is 100). */
export const MAX_YAML_ALIASES = 100;
/** Kubernetes' limit for request bodies. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export type BodyFormat = 'json' | 'yaml';

export const PATCH_TYPES = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
} as const;

export type PatchType = (typeof PATCH_TYPES)[keyof typeof PATCH_TYPES];

/** The media type without parameters, lower-cased: "application/json; charset=utf-8" → "application/json". */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function bodyFormat(media: string): BodyFormat | undefined {
  if (media === 'application/json' || media.endsWith('+json')) return 'json';
  if (media === 'application/yaml' || media === 'application/x-yaml' || media.endsWith('+yaml'))
    return 'yaml';
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The deepest bracket nesting in a JSON (or flow-style YAML) text, ignoring brackets inside strings.
 * Stops counting once `limit` is passed, so a hostile body costs one linear scan at most.
 */
export function nestingDepth(text: string, limit = MAX_BODY_DEPTH): number {
  // Character codes, not one-character strings: every request body passes through this loop.
  let depth = 0;
  let deepest = 0;
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (quoted) {
      if (code === BACKSLASH) index++;
      else if (code === QUOTE) quoted = false;
      continue;
    }
    if (code === QUOTE) quoted = true;
    else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) depth--;
  }
  return deepest;
}

function checkDepth(text: string): void {
  if (nestingDepth(text) > MAX_BODY_DEPTH) {
    throw apiErrors.badRequest(
      `the request body is nested more than ${MAX_BODY_DEPTH} levels deep; no Kubernetes object is, so it was refused`,
    );
  }
}

/** Decodes a request body. Throws ApiError 400 for malformed or hostile input. */
export function decodeBody(raw: Buffer | string, format: BodyFormat): unknown {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text.trim() === '')
    throw apiErrors.badRequest('the request body is empty: send the object as JSON or YAML');
  checkDepth(text);
  try {
    if (format === 'json') return JSON.parse(text) as unknown;
    return decodeYaml(text);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof RangeError) {
      throw apiErrors.badRequest('the request body is too deeply nested to decode');
    }
    throw apiErrors.badRequest(
      `the request body is not valid ${format === 'json' ? 'JSON' : 'YAML'}: ${message}`,
    );
  }
}

function decodeYaml(text: string): unknown {
  const documents = parseAllDocuments(text, { uniqueKeys: true });
  if (!Array.isArray(documents)) throw apiErrors.badRequest('the request body is empty');
  const meaningful = documents.filter((document) => document.contents !== null);
  if (meaningful.length !== 1) {
    throw apiErrors.badRequest(
      `the request body holds ${meaningful.length} YAML documents; send exactly one object per request`,
    );
  }
  const [document] = meaningful;
  if (!document) throw apiErrors.badRequest('the request body is empty');
  const firstError = document.errors[0];
  if (firstError) {
    const position = firstError.linePos?.[0];
    const where = position ? ` at line ${position.line}, column ${position.col}` : '';
    throw apiErrors.badRequest(`the request body is not valid YAML${where}: ${firstError.message}`);
  }
  // toJS enforces maxAliasCount: an alias bomb fails here, before it is expanded in memory.
  return document.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown;
}
