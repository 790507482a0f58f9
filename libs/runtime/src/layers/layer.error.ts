// Every way a layer can be refused has its own code, so callers and tests can tell a hostile archive
// from a corrupt one, and the message always names the entry and what to do about it.
export type LayerErrorCode =
  | 'malformed-tar'
  | 'unsupported-entry'
  | 'path-traversal'
  | 'write-through-symlink'
  | 'not-a-directory'
  | 'hardlink-target'
  | 'invalid-whiteout'
  | 'device-not-allowed'
  | 'xattr-not-allowed'
  | 'size-limit'
  | 'ratio-limit'
  | 'digest-mismatch'
  | 'unsupported-compression'
  | 'helper-failed';

export class LayerError extends Error {
  constructor(
    readonly code: LayerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LayerError';
  }
}
