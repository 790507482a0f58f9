// A patch that cannot be applied as written. The message names the operation or field path so the
// caller can fix the patch; the apiserver answers it with 400 Bad Request.
export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}
