// A lock file for state shared by every process of one host (daemonless: two CLI runs may allocate at
// once). The file is created exclusively and holds the owner's pid, so a lock left by a process that
// crashed is recognised and broken instead of blocking the host forever.
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { NetworkError } from './network.types';

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/**
 * Removes a lock whose owner died. Renaming is atomic, so of several processes that saw the same
 * stale lock only one takes it away; if what it took turns out to be a fresh lock (its owner took
 * the stale one's place in between), it is put back where it was.
 */
async function breakStaleLock(path: string, deadOwner: number): Promise<void> {
  const taken = `${path}.stale.${process.pid}`;
  try {
    await rename(path, taken);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  const owner = Number((await readFile(taken, 'utf8').catch(() => '')).trim());
  if (owner !== deadOwner) {
    await link(taken, path).catch(() => undefined);
  }
  await rm(taken, { force: true });
}

// Within one process, callers queue here first: the file lock alone cannot tell two of our own
// callers apart, since both would see our own live pid in it.
const inProcessQueues = new Map<string, Promise<unknown>>();

async function acquireFileLock(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && !isAlive(owner)) {
      await breakStaleLock(path, owner);
      continue;
    }
    if (Date.now() > deadline) {
      throw new NetworkError(
        `timed out waiting for ${path} (held by pid ${owner || 'unknown'}); if no flotilla process is running, remove the file`,
      );
    }
    await sleep(Math.min(20, 1 + attempt));
  }
}

/** Runs work while holding the lock file at path. */
export async function withFileLock<T>(path: string, work: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const previous = inProcessQueues.get(path) ?? Promise.resolve();
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      await acquireFileLock(path, timeoutMs);
      try {
        return await work();
      } finally {
        await rm(path, { force: true });
      }
    });
  inProcessQueues.set(path, run);
  try {
    return await run;
  } finally {
    if (inProcessQueues.get(path) === run) inProcessQueues.delete(path);
  }
}
