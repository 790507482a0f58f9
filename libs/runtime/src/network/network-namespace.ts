// Named network namespaces, as `ip netns` keeps them: a bind mount at /var/run/netns/<name> keeps the
// namespace alive without any process in it, and is the path the shim joins with setns(2).
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked, runCommand } from './command-runner';
import { NetworkError } from './network.types';

export const NETNS_DIRECTORY = '/var/run/netns';

const NAMESPACE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function namespacePath(name: string): string {
  return join(NETNS_DIRECTORY, name);
}

export function checkNamespaceName(name: string): void {
  if (!NAMESPACE_NAME_PATTERN.test(name)) {
    throw new NetworkError(
      `network namespace name ${JSON.stringify(name)} must be 1-63 letters, digits, "_", "." or "-", starting with a letter or digit`,
    );
  }
}

export async function namespaceExists(name: string): Promise<boolean> {
  try {
    await access(namespacePath(name));
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates a named namespace with loopback up (what `--network none` gives) and returns the path the
 * shim joins. Two ip runs: the namespace must exist before `ip -n` can address it.
 */
export async function createNetworkNamespace(name: string): Promise<string> {
  checkNamespaceName(name);
  if (await namespaceExists(name)) {
    throw new NetworkError(
      `network namespace ${name} already exists; delete it first (ip netns delete ${name})`,
    );
  }
  await runChecked(`creating network namespace ${name}`, 'ip', ['netns', 'add', name]);
  try {
    await runChecked(`bringing up loopback in ${name}`, 'ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (error) {
    await deleteNetworkNamespace(name);
    throw error;
  }
  return namespacePath(name);
}

/** Removes a named namespace; one that is already gone is fine. Processes still inside keep it alive. */
export async function deleteNetworkNamespace(name: string): Promise<void> {
  checkNamespaceName(name);
  if (!(await namespaceExists(name))) return;
  const result = await runCommand('ip', ['netns', 'delete', name]);
  if (result.exitCode !== 0 && (await namespaceExists(name))) {
    throw new NetworkError(`deleting network namespace ${name} failed: ${result.stderr.trim()}`);
  }
}
