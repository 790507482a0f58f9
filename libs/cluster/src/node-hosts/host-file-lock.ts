// A lock between processes on this host (test files starting clusters side by side, `flotilla up`):
// the lock file holds the owner's pid, so a lock left by a crashed process is broken, not waited on.
import { openSync, readFileSync, closeSync, writeSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive, sleep } from '../processes/supervised-process';

export async function withHostLock<T>(file: string, work: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  mkdirSync(dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(file, 'utf8').trim());
    } catch {
      continue;
    }
    // An empty file is a lock being written this instant; only a dead owner's lock is broken.
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !isAlive(owner)) {
      try {
        unlinkSync(file);
      } catch {
        // Another waiter broke it first.
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${file} (held by pid ${owner}); if that process is stuck, kill it`,
      );
    }
    await sleep(20);
  }
  try {
    return await work();
  } finally {
    try {
      unlinkSync(file);
    } catch {
      // Already gone: nothing to release.
    }
  }
}
