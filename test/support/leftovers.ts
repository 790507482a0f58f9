// Test processes outlive a jest run that is killed (a timeout, Ctrl-C): their teardown never runs.
// Every test directory therefore records, as soon as it exists, which process owns it; the next run
// sweeps directories whose owner is dead, killing every process that runs from them (found by the
// directory in its command line or working directory), so a reused machine never trips over yesterday's etcd.
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OWNER_FILE = 'owner.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Marks `dir` as owned by this process; call it right after creating the directory. */
export function claimTestDir(dir: string): void {
  writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
}

function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Redis renames its process, so its working directory (its data dir) gives it away instead.
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (commandLine.includes(dir) || cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return pids;
}

/** Kills what dead owners left running and removes their directories. Returns how many it swept. */
export function sweepTestDirs(prefix = 'flotilla-'): number {
  let swept = 0;
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(prefix)) continue;
    const dir = join(tmpdir(), name);
    const ownerFile = join(dir, OWNER_FILE);
    if (!existsSync(ownerFile)) continue;
    const owner = Number(readFileSync(ownerFile, 'utf8').trim());
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) continue;
    for (const pid of processesUsing(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
    swept++;
  }
  return swept;
}
