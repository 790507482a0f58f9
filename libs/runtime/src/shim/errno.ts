// The errno code of a failed system call. Checked structurally: errors from Node's fs do not pass
// `instanceof Error` inside jest's VM context.
export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
