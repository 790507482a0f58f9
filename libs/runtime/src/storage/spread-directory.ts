// Directories whose subdirectories are unrelated (one per container, snapshot or pod) are made with
// ext4's top-of-hierarchy flag. ext4 places a new directory in its parent's block group, so every
// container directory of a node would share a few groups; and without a journal (many VM disks, this
// project's CI machines) ext4 will not reuse an inode freed in the last 60 s (6 min while its
// inode-table block is dirty) and scans past each one. A node whose disk had just freed thousands of
// inodes (pods removed, an earlier cluster torn down) paid for every file it created, more after each
// burst: bench/pod-startup, fresh clusters 5 s apart, p99 0.74, 0.67, 1.41, 1.16, 1.64 s; with the
// flag 0.74, 0.75, 0.76, 0.84, 0.59 s.
// The flag (chattr +T, FS_TOPDIR_FL) makes ext4 spread the subdirectories over the file system as it
// spreads those of /. Best effort: other file systems refuse it or ignore it, and nothing depends on it.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

/**
 * Creates `path` (and its parents, with `mode`) if missing; a directory this call creates gets the
 * top-of-hierarchy flag. Costs one mkdir(2) when the directory exists.
 */
export function ensureSpreadDirectory(path: string, options: { mode: number }): void {
  const created = mkdirSync(path, { recursive: true, mode: options.mode });
  // Set once, when the directory is made: the flag stays with it, and checking an existing
  // directory would cost a process per start of every CLI command.
  if (created !== undefined) spawnSync('chattr', ['+T', path], { stdio: 'ignore', timeout: 10_000 });
}
