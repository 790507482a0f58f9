// The shim's input, rendered as the line-based `key=value` file native/shim/config.c parses. The C
// parser stays trivial because every check that can happen here happens here.

import { capabilityMask } from '../containers/container-capabilities';

/** A bind mount of a host path into the container (`-v host:container[:ro]`). */
export interface ShimMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** One process inside the container: the init (run) or an extra one (exec). */
export interface ShimProcess {
  args: readonly string[];
  env: readonly string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: readonly number[];
  tty: boolean;
  /** CAP_ names (see containers/container-capabilities); absent: the shim's built-in Docker default. */
  capabilities?: readonly string[];
}

/**
 * The cgroup a container process joins, by directory: the shim joins v1 hierarchies by having the
 * process write itself to each `tasks` file and v2 with clone3(CLONE_INTO_CGROUP), both without
 * the kernel's global migration lock (an RCU grace period per start; see native/shim/cgroup.c).
 */
export interface ShimCgroup {
  version: 'v1' | 'v2';
  /** One directory per mounted v1 hierarchy, or the one v2 directory. */
  directories: readonly string[];
}

/** How the container's network namespace is chosen. */
export type ShimNetwork = { mode: 'new' } | { mode: 'host' } | { mode: 'join'; path: string };

export interface ShimRunConfig {
  process: ShimProcess;
  hostname: string;
  /** Host path the container's root is mounted on inside its own mount namespace. */
  rootfs: string;
  /** overlayfs options (lowerdir=...,upperdir=...,workdir=...); absent: rootfs is bind-mounted as is. */
  overlayOptions?: string;
  readOnlyRootfs: boolean;
  mounts: readonly ShimMount[];
  network: ShimNetwork;
  /** cgroup.procs files the init's pid is written to before it may continue (the slow way). */
  cgroupProcsFiles: readonly string[];
  /** The cgroup the init joins before it may continue (the fast way). */
  cgroup?: ShimCgroup;
  /** memory.events (v2) or memory.oom_control (v1), read at exit for the OOM hint. */
  oomFile?: string;
  /** Hold the init until the first attach client connects (run -it), so no output is missed. */
  waitForAttach: boolean;
  /** Without a tty: the init's stdin is a pipe fed through the attach socket (run -i), not /dev/null. */
  openStdin?: boolean;
  /** Run by the shim in its place once the exit status is written (e.g. removal for run -d --rm). */
  exitCommand?: ShimExitCommand;
  /**
   * With gidMap: the container gets a user namespace with these maps ("CONTAINER HOST SIZE" lines),
   * and its overlay root is built on idmapped layers (native/shim/idmap.c).
   */
  uidMap?: string;
  gidMap?: string;
}

export interface ShimExitCommand {
  /** An absolute program path and its arguments. */
  args: readonly string[];
  /** Its whole environment (the shim passes on nothing of its own). */
  env: readonly string[];
}

export interface ShimExecConfig {
  process: ShimProcess;
  cgroupProcsFiles: readonly string[];
  cgroup?: ShimCgroup;
}

/** Escapes what the line format reserves; config.c reverses it. */
export function escapeShimValue(value: string): string {
  if (value.includes('\0')) {
    throw new Error(`a NUL byte cannot be passed to a container: ${JSON.stringify(value)}`);
  }
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

function requireAbsolute(what: string, path: string): void {
  if (!path.startsWith('/')) throw new Error(`${what} must be an absolute path, got "${path}"`);
}

function processLines(process: ShimProcess): Array<[string, string]> {
  if (process.args.length === 0) throw new Error('a container process needs a command');
  for (const id of [process.uid, process.gid, ...process.additionalGids]) {
    if (!Number.isInteger(id) || id < 0 || id > 0xfffffffe) {
      throw new Error(`user and group ids must be integers from 0 to 4294967294, got ${id}`);
    }
  }
  requireAbsolute('the working directory', process.cwd);
  return [
    ...process.args.map((arg): [string, string] => ['arg', arg]),
    ...process.env.map((entry): [string, string] => ['env', entry]),
    ['cwd', process.cwd],
    ['uid', String(process.uid)],
    ['gid', String(process.gid)],
    ...process.additionalGids.map((gid): [string, string] => ['group', String(gid)]),
    ['tty', process.tty ? '1' : '0'],
    ...(process.capabilities !== undefined
      ? [['caps', capabilityMask(process.capabilities)] as [string, string]]
      : []),
  ];
}

function cgroupLines(cgroup: ShimCgroup | undefined): Array<[string, string]> {
  if (cgroup === undefined) return [];
  for (const directory of cgroup.directories) requireAbsolute('a cgroup directory', directory);
  if (cgroup.version === 'v2') {
    if (cgroup.directories.length !== 1 || cgroup.directories[0] === undefined) {
      throw new Error(`a v2 cgroup is one directory, got ${cgroup.directories.length}`);
    }
    return [['cgroup_v2', cgroup.directories[0]]];
  }
  return cgroup.directories.map((directory): [string, string] => ['cgroup_v1', directory]);
}

function render(lines: Array<[string, string]>): string {
  return lines.map(([key, value]) => `${key}=${escapeShimValue(value)}\n`).join('');
}

export function renderShimRunConfig(config: ShimRunConfig): string {
  requireAbsolute('the root filesystem', config.rootfs);
  const lines = processLines(config.process);
  lines.push(['hostname', config.hostname], ['rootfs', config.rootfs]);
  if (config.overlayOptions !== undefined) lines.push(['overlay', config.overlayOptions]);
  lines.push(['readonly_rootfs', config.readOnlyRootfs ? '1' : '0']);
  for (const mount of config.mounts) {
    requireAbsolute('a volume source', mount.source);
    requireAbsolute('a volume target', mount.target);
    if (mount.target.split('/').includes('..')) {
      throw new Error(`a volume target may not contain "..": ${mount.target}`);
    }
    lines.push(['mount_source', mount.source], ['mount_target', mount.target]);
    lines.push(['mount_readonly', mount.readOnly ? '1' : '0']);
  }
  const network = config.network;
  lines.push(['netns', network.mode === 'join' ? network.path : network.mode]);
  for (const file of config.cgroupProcsFiles) lines.push(['cgroup_procs', file]);
  lines.push(...cgroupLines(config.cgroup));
  if (config.oomFile !== undefined) lines.push(['oom_file', config.oomFile]);
  lines.push(['wait_attach', config.waitForAttach ? '1' : '0']);
  if (config.openStdin) lines.push(['stdin', '1']);
  if ((config.uidMap === undefined) !== (config.gidMap === undefined)) {
    throw new Error('a user namespace needs both a uid map and a gid map');
  }
  if (config.uidMap !== undefined && config.gidMap !== undefined) {
    lines.push(['uid_map', config.uidMap], ['gid_map', config.gidMap]);
  }
  if (config.exitCommand !== undefined) {
    const [program] = config.exitCommand.args;
    if (program === undefined) throw new Error('an exit command needs a program');
    requireAbsolute('the exit command', program);
    for (const arg of config.exitCommand.args) lines.push(['exit_arg', arg]);
    for (const entry of config.exitCommand.env) lines.push(['exit_env', entry]);
  }
  return render(lines);
}

export function renderShimExecConfig(config: ShimExecConfig): string {
  const lines = processLines(config.process);
  for (const file of config.cgroupProcsFiles) lines.push(['cgroup_procs', file]);
  lines.push(...cgroupLines(config.cgroup));
  return render(lines);
}
