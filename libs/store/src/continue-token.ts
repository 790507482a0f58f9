// The opaque `continue` token of a paged list: the revision the first page was read at (so every page
// reads one consistent snapshot) and the key to resume from. Base64url JSON, as Kubernetes does.
import { StoreError } from './store.types';

export interface ContinuePosition {
  revision: number;
  /** The first key of the next page, relative to the listed prefix. */
  startAfterPrefix: string;
}

export function encodeContinue(position: ContinuePosition): string {
  return Buffer.from(
    JSON.stringify({ v: 1, rv: position.revision, start: position.startAfterPrefix }),
  ).toString('base64url');
}

export function decodeContinue(token: string): ContinuePosition {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new StoreError('BadRequest', 'continue key is not valid: pass the token a previous list returned');
  }
  if (typeof decoded !== 'object' || decoded === null) {
    throw new StoreError('BadRequest', 'continue key is not valid: pass the token a previous list returned');
  }
  const { v, rv, start } = decoded as Record<string, unknown>;
  if (
    v !== 1 ||
    typeof rv !== 'number' ||
    !Number.isSafeInteger(rv) ||
    rv <= 0 ||
    typeof start !== 'string'
  ) {
    throw new StoreError('BadRequest', 'continue key is not valid: pass the token a previous list returned');
  }
  if (start.startsWith('/') || start.split('/').includes('..')) {
    // The start key is relative to the listed prefix; refuse anything that could walk out of it.
    throw new StoreError('BadRequest', 'continue key is not valid: it points outside the listed resource');
  }
  return { revision: rv, startAfterPrefix: start };
}
