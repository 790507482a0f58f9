import { spawnSync } from 'node:child_process';
import { ComponentError } from '../processes/supervised-process';

/** Fails with the fix in the message when a Debian package the cluster needs is missing. */
export function requireBinary(binary: string, debianPackage: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new ComponentError(
      `${binary} is not installed: run 'bash scripts/setup.sh' as root (it installs Debian's ${debianPackage})`,
    );
  }
  return path;
}
