// A cross-process lock for read-modify-write of shared state files (the image index). mkdir is atomic,
// so the lock is a directory holding the owner's pid; a lock whose owner died is taken over.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

export class LockTimeoutError extends Error {
  override readonly name = 'LockTimeoutError';
}

export async function withStateLock<T>(
  lockDir: string,
  work: () => Promise<T>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fs.mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (await ownerIsGone(lockDir)) {
        await fs.rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new LockTimeoutError(
          `${lockDir} is held by another flotilla process; wait for it to finish, or remove the directory if no flotilla process is running`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  try {
    await fs.writeFile(join(lockDir, 'pid'), String(process.pid));
    return await work();
  } finally {
    await fs.rm(lockDir, { recursive: true, force: true });
  }
}

async function ownerIsGone(lockDir: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number(await fs.readFile(join(lockDir, 'pid'), 'utf8'));
  } catch {
    // Just created, pid not written yet — or a crash in between: judge by age.
    const stat = await fs.stat(lockDir).catch(() => undefined);
    return stat !== undefined && Date.now() - stat.mtimeMs > 5_000;
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
