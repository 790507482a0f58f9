// When a node's failed pod status write is tried again. An agent reports a status once per change
// (and again only when it reconnects), so a report given up on here stays lost while the pod runs:
// a write that may still succeed (etcd unavailable or slow, a conflict, throttling) is retried for as
// long as the node's stream lives, as kubelet's status manager keeps syncing until the API has it.

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;

/** The delay before try `attempt + 1` of a write that failed with `code` (an API status, if any), or undefined to give up. */
export function statusRetryDelayMs(options: { code: number | undefined; attempt: number }): number | undefined {
  const { code, attempt } = options;
  // The API refused this report for good (invalid, forbidden, gone): the next report replaces it.
  if (code !== undefined && code >= 400 && code < 500 && code !== 409 && code !== 429) return undefined;
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(Math.max(attempt - 1, 0), 5));
}
