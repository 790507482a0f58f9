// Containers on this node, daemonless like podman: every fact lives in the state directory, so any
// process (the CLI, the node agent, a test) can list, stop, exec into and remove containers another
// one started. The shim is each container's parent; this class only writes its input, starts it and
// reads what it leaves behind.
import type { ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, rmSync, watch, writeFileSync } from 'node:fs';
import { stat, unlink, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { ATTACH_SOCKET_NAME, encodeResize } from '../shim/attach-protocol';
import { locateShimBinary } from '../shim/shim-binary';
import {
  renderShimExecConfig,
  renderShimRunConfig,
  type ShimCgroup,
  type ShimExitCommand,
  type ShimNetwork,
} from '../shim/shim-config';
import { launchShim, ResidentShimLauncher, spawnShimExec, type ShimLaunch } from '../shim/shim-launcher';
import {
  isSameProcessAlive,
  parseProcessIdentity,
  parseShimStatus,
  readOptional,
  type ProcessIdentity,
  type ShimExitStatus,
} from '../shim/shim-status';
import { validateBlockIoLimits } from '../cgroups/cgroup-block-io';
import { CgroupError } from '../cgroups/cgroup.types';
import { ContainerError } from './container.error';
import { blockIoLimitsOf } from './container-cgroups.adapter';
import type {
  ContainerCgroup,
  ContainerCgroupUsage,
  ContainerCgroups,
  ContainerInfo,
  ContainerRecord,
  ContainerResources,
  ContainerSpec,
  ContainerState,
  NetworkAttacher,
  PublishedPort,
  RootfsProvider,
} from './container.types';
import { exposedPortMappings } from '../network/port-mapping';
import { resolveCapabilities } from './container-capabilities';
import { withFileLock } from '../network/file-lock';
import { nextStatus } from './container-lifecycle';
import { readContainerLog, type LogEntry, type LogReadOptions } from './container-logs';
import { parseSignal } from './container-signals';
import { resolveStateDir } from '../images/state-dir';
import { ContainerStore } from './container-store';
import { resolveUser } from './container-user';
import { DirectoryRootfsProvider } from './directory-rootfs';
import {
  claimAutoRange,
  formatMapping,
  hostIdOf,
  releaseAutoRange,
  renderIdMap,
  validateMaps,
  type UserNamespaceMaps,
} from './user-namespace';
import { errnoCode } from '../shim/errno';

export interface ContainerManagerOptions {
  /** Default: FLOTILLA_STATE_DIR, else /var/lib/flotilla. */
  stateDir?: string;
  /** Default: FLOTILLA_SHIM, else native/shim/flotilla-shim of this checkout. */
  shimPath?: string;
  /** Resolves image references; without it only `rootfsDir` containers can be made. */
  images?: RootfsProvider;
  /** Without it containers run in no cgroup of ours and resource limits are refused. */
  cgroups?: ContainerCgroups;
  /** Without it the default network is `none` and `bridge` or port mappings are refused. */
  network?: NetworkAttacher;
  /**
   * The command that removes a container, run by its shim once it exits when the container asked
   * for autoRemove (`run -d --rm`), as podman's conmon runs its exit command. Without it (or when it
   * fails) list() removes such containers when it finds them stopped.
   */
  autoRemoveCommand?: (containerId: string) => ShimExitCommand;
  /**
   * The command a container's shim runs once it exits when the container has a restart policy: it
   * should call restartOnExit (the CLI passes `flotilla container restart-on-exit ID`), podman's
   * daemonless way to restart. Without it restart policies are refused.
   */
  restartCommand?: (containerId: string) => ShimExitCommand;
  /**
   * Start shims through one resident launcher process (default) rather than a fork of this process
   * per container, which costs more the more memory this process holds (see shim-launcher.ts).
   */
  residentLauncher?: boolean;
  /**
   * The resident launcher to start shims through, when one is shared (the node's bridge network
   * configures pod namespaces through the same process); default: one of its own.
   */
  launcher?: ResidentShimLauncher;
}

export interface StopOptions {
  /** Seconds between the stop signal and SIGKILL (default 10, as Docker). */
  timeoutSeconds?: number;
  /** Overrides the container's stop signal. */
  signal?: string;
}

export interface ExecOptions {
  args: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  tty?: boolean;
  /** The process's stdio are the caller's (interactive CLI); otherwise they are pipes on the ChildProcess. */
  inheritStdio?: boolean;
  /** With `tty` and piped stdio: the pty's window size can be set later with resizeExec(). */
  resizable?: boolean;
}

export interface ContainerStats {
  id: string;
  name: string;
  usage: ContainerCgroupUsage;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_STOP_TIMEOUT_SECONDS = 10;
const STATUS_POLL_MS = 250;
const WATCHED_STATUS_POLL_MS = 1_000;
const SIGKILL = 9;

function mergeEnv(...layers: Array<readonly string[] | undefined>): string[] {
  const merged = new Map<string, string>();
  for (const layer of layers) {
    for (const entry of layer ?? []) {
      const equals = entry.indexOf('=');
      if (equals <= 0) {
        throw new ContainerError('InvalidSpec', `environment entry "${entry}" must look like NAME=value`);
      }
      merged.set(entry.slice(0, equals), entry);
    }
  }
  return [...merged.values()];
}

/** The output file the shim appends to in the container's directory; its writes say nothing about exit. */
const CONTAINER_LOG = 'container.log';

/**
 * The changes in a container's directory while someone waits for its status, from one watcher for
 * the whole wait: a watcher per check cost an inotify add and remove, and a check, four times a
 * second per running container (a node agent with 34 idle pods spent 32-39 ms CPU a second, now 17).
 * A change that comes while the caller checks is kept, so the next wait returns at once and nothing
 * is missed.
 */
class DirectoryChanges {
  private changed = false;
  private wake?: () => void;
  private readonly watcher?: ReturnType<typeof watch>;

  constructor(dir: string) {
    const notice = (): void => {
      this.changed = true;
      this.wake?.();
    };
    try {
      this.watcher = watch(dir, (_event, filename) => {
        if (filename !== CONTAINER_LOG) notice();
      });
      this.watcher.on('error', notice);
    } catch {
      // The directory vanished (removed meanwhile): the caller re-reads after each poll interval.
    }
  }

  /**
   * Resolves after a change since the last call, an abort, the poll interval or maxMs, whichever
   * comes first. The interval is short without a watcher; with one, long enough to be cheap, since
   * only a shim killed before writing its status (no file changes then) needs the poll to be noticed.
   */
  next(maxMs: number, signal?: AbortSignal): Promise<void> {
    if (this.changed || signal?.aborted) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = undefined;
        this.changed = false;
        resolve();
      };
      const timer = setTimeout(
        done,
        Math.max(0, Math.min(maxMs, this.watcher ? WATCHED_STATUS_POLL_MS : STATUS_POLL_MS)),
      );
      this.wake = done;
      signal?.addEventListener('abort', done);
    });
  }

  close(): void {
    this.wake?.();
    this.watcher?.close();
  }
}

/**
 * By directory (fast: no global migration lock, see native/shim/cgroup.c) when the cgroup says which
 * version it is, or when its cgroup.procs files show it: every v1 cgroup directory has a `tasks`
 * file, a v2 one never has and always has cgroup.controllers. Otherwise by cgroup.procs files.
 */
function shimCgroupOf(cgroup: ContainerCgroup | undefined): {
  cgroupProcsFiles: readonly string[];
  cgroup?: ShimCgroup;
} {
  if (cgroup?.version !== undefined && cgroup.directories !== undefined) {
    return { cgroupProcsFiles: [], cgroup: { version: cgroup.version, directories: cgroup.directories } };
  }
  const files = cgroup?.procsFiles ?? [];
  const directories = files.map((file) => dirname(file));
  if (files.length > 0 && files.every((file) => basename(file) === 'cgroup.procs')) {
    if (directories.every((directory) => existsSync(join(directory, 'tasks')))) {
      return { cgroupProcsFiles: [], cgroup: { version: 'v1', directories } };
    }
    const [only] = directories;
    if (directories.length === 1 && only !== undefined && existsSync(join(only, 'cgroup.controllers'))) {
      return { cgroupProcsFiles: [], cgroup: { version: 'v2', directories } };
    }
  }
  return { cgroupProcsFiles: files };
}

/** What the shim leaves from a previous run; small local files, removed synchronously on the start path. */
function removeShimFiles(dir: string): void {
  for (const file of ['status', 'init.pid', 'shim.pid']) rmSync(join(dir, file), { force: true });
}

/**
 * Block I/O limits are checked at create, as Docker's daemon does: the weight's range, and that each
 * device path is a block device now (its major:minor is looked up again when the cgroup is made).
 */
function checkBlockIo(resources: ContainerResources | undefined): void {
  if (resources === undefined) return;
  try {
    validateBlockIoLimits(blockIoLimitsOf(resources));
  } catch (error: unknown) {
    if (error instanceof CgroupError) throw new ContainerError('InvalidSpec', error.message);
    throw error;
  }
}

/**
 * In a user namespace the container's root must own its root directory, or it could not write to
 * "/" (its capabilities only cover files whose owners its namespace maps). The upper dir is the
 * root directory's inode; the lower layers are idmapped by the shim. The process's ids must be
 * mapped, or the kernel refuses to switch to them, and so must 0, which the shim sets the root up as.
 */
function mapRootfsOwner(
  maps: UserNamespaceMaps,
  user: { uid: number; gid: number; additionalGids: readonly number[] },
  upperDir: string,
): void {
  const rootUid = hostIdOf(maps.uidMappings, 0);
  const rootGid = hostIdOf(maps.gidMappings, 0);
  const unmapped =
    rootUid === undefined || rootGid === undefined
      ? 'root (0)'
      : hostIdOf(maps.uidMappings, user.uid) === undefined
        ? `uid ${user.uid}`
        : [user.gid, ...user.additionalGids]
            .filter((gid) => hostIdOf(maps.gidMappings, gid) === undefined)
            .map((gid) => `gid ${gid}`)[0];
  if (unmapped !== undefined || rootUid === undefined || rootGid === undefined) {
    throw new ContainerError(
      'InvalidSpec',
      `the container's ${unmapped ?? 'root (0)'} is outside its user namespace (uid map ${maps.uidMappings.map(formatMapping).join(',')}, gid map ${maps.gidMappings.map(formatMapping).join(',')}); map it with --uidmap/--gidmap (uid and gid 0 must be mapped, as runc requires)`,
    );
  }
  chownSync(upperDir, rootUid, rootGid);
}

function hasLimits(spec: ContainerSpec): boolean {
  return Object.values(spec.resources ?? {}).some((value) => value !== undefined);
}

/**
 * `-P`: the image's exposed ports on free host ports, after those -p already publishes (an explicit
 * mapping of a container port wins, as with Docker).
 */
function withExposedPorts(ports: readonly PublishedPort[], exposed: readonly string[]): PublishedPort[] {
  let extra: PublishedPort[];
  try {
    extra = exposedPortMappings(exposed);
  } catch (error: unknown) {
    throw new ContainerError('InvalidSpec', error instanceof Error ? error.message : String(error));
  }
  const published = new Set(ports.map((port) => `${port.containerPort}/${port.protocol}`));
  return [...ports, ...extra.filter((port) => !published.has(`${port.containerPort}/${port.protocol}`))];
}

/** Whether the container's shim should run the restart hook when it exits. */
function restartsOnExit(record: ContainerRecord): boolean {
  const name = record.spec.restartPolicy?.name;
  return name !== undefined && name !== 'no';
}

/** Why the restart policy keeps the container stopped after an exit with this code, or undefined. */
function restartRefusal(record: ContainerRecord, exitCode: number | undefined): string | undefined {
  const policy = record.spec.restartPolicy;
  if (policy === undefined || policy.name === 'no') return 'no restart policy';
  if (record.stoppedByUser) return 'stopped by the user';
  if (policy.name !== 'on-failure') return undefined;
  if (exitCode === 0) return 'exited 0';
  const maximum = policy.maximumRetryCount ?? 0;
  return maximum > 0 && record.restartCount >= maximum ? `${maximum} restarts reached` : undefined;
}

function checkRestartPolicy(spec: ContainerSpec, canRestart: boolean): void {
  const policy = spec.restartPolicy;
  if (policy === undefined || policy.name === 'no') return;
  if (spec.autoRemove) {
    throw new ContainerError(
      'InvalidSpec',
      'a restart policy and --rm conflict: a removed container cannot restart',
    );
  }
  if (!canRestart) {
    throw new ContainerError(
      'InvalidSpec',
      'this runtime has no restart command, so it cannot restart containers',
    );
  }
  const maximum = policy.maximumRetryCount;
  if (maximum !== undefined && (!Number.isSafeInteger(maximum) || maximum < 0)) {
    throw new ContainerError(
      'InvalidSpec',
      `a restart count of ${maximum} must be a whole number, 0 or more`,
    );
  }
  if (maximum !== undefined && maximum > 0 && policy.name !== 'on-failure') {
    throw new ContainerError('InvalidSpec', `only on-failure takes a restart count, not ${policy.name}`);
  }
}

export class ContainerManager {
  readonly store: ContainerStore;
  private readonly shimPath: string;
  private readonly directories = new DirectoryRootfsProvider();
  private readonly launcher: ResidentShimLauncher | undefined;

  constructor(private readonly options: ContainerManagerOptions = {}) {
    this.store = new ContainerStore(resolveStateDir(options.stateDir));
    this.shimPath = options.shimPath ?? locateShimBinary();
    this.launcher =
      options.residentLauncher === false
        ? undefined
        : (options.launcher ?? new ResidentShimLauncher(this.shimPath));
  }

  async create(spec: ContainerSpec): Promise<ContainerInfo> {
    if ((spec.image === undefined) === (spec.rootfsDir === undefined)) {
      throw new ContainerError(
        'InvalidSpec',
        'a container needs exactly one of an image or a root filesystem directory',
      );
    }
    if (spec.image !== undefined && !this.options.images) {
      throw new ContainerError(
        'InvalidSpec',
        `cannot resolve image ${spec.image}: this runtime has no image store; use --rootfs DIR`,
      );
    }
    if (hasLimits(spec) && !this.options.cgroups) {
      throw new ContainerError(
        'InvalidSpec',
        'resource limits need cgroups, and this runtime was created without a cgroup manager',
      );
    }
    const network = spec.network ?? (this.options.network ? 'bridge' : 'none');
    if (network === 'bridge' && !this.options.network) {
      throw new ContainerError(
        'InvalidSpec',
        'the bridge network is not available here: use --network none or --network host',
      );
    }
    if ((spec.ports?.length ?? 0) > 0 && network !== 'bridge') {
      throw new ContainerError(
        'InvalidSpec',
        `port mappings need the bridge network, not --network ${network}`,
      );
    }
    for (const volume of spec.volumes ?? []) {
      if (!isAbsolute(volume.source) || !isAbsolute(volume.target)) {
        throw new ContainerError(
          'InvalidSpec',
          `volume ${volume.source}:${volume.target} needs absolute paths on both sides`,
        );
      }
      if (volume.target.split('/').includes('..')) {
        throw new ContainerError('InvalidSpec', `volume target ${volume.target} may not contain ".."`);
      }
      if (!(await stat(volume.source).catch(() => undefined))) {
        throw new ContainerError(
          'InvalidSpec',
          `volume source ${volume.source} does not exist: create it first`,
        );
      }
    }
    checkBlockIo(spec.resources);
    checkRestartPolicy(spec, this.options.restartCommand !== undefined);
    const capabilities =
      spec.capAdd !== undefined || spec.capDrop !== undefined
        ? resolveCapabilities({ add: spec.capAdd ?? [], drop: spec.capDrop ?? [] })
        : undefined;
    const stopSignal = spec.stopSignal ?? 'SIGTERM';
    parseSignal(stopSignal);

    const id = this.store.newId();
    const name = spec.name ?? `flotilla-${id.slice(0, 12)}`;
    const containerDir = this.store.directoryOf(id);
    await this.store.claimName(name, id);
    let userNamespace: UserNamespaceMaps | undefined;
    try {
      const provider = spec.rootfsDir !== undefined ? this.directories : this.options.images;
      const image = spec.rootfsDir ?? spec.image ?? '';
      if (!provider) throw new ContainerError('InvalidSpec', `cannot resolve image ${image}: no image store`);
      const prepared = await provider.prepare({ containerId: id, containerDir, image });
      userNamespace = this.userNamespaceFor(spec, id);
      const defaults = prepared.image;
      const args = [
        ...(spec.entrypoint ?? defaults.entrypoint ?? []),
        ...(spec.command ?? (spec.entrypoint ? [] : (defaults.cmd ?? []))),
      ];
      if (args.length === 0) {
        throw new ContainerError(
          'InvalidSpec',
          `no command to run: ${image} has no CMD or ENTRYPOINT, so give one`,
        );
      }
      const user = await resolveUser(spec.user ?? defaults.user, prepared.lowerDirs);
      if (userNamespace) mapRootfsOwner(userNamespace, user, prepared.rootfs.upperDir);
      const cwd = spec.workingDir ?? defaults.workingDir ?? '/';
      if (!isAbsolute(cwd))
        throw new ContainerError('InvalidSpec', `working directory "${cwd}" must be absolute`);
      const hostname = spec.hostname ?? id.slice(0, 12);
      const env = mergeEnv(
        [DEFAULT_PATH, `HOSTNAME=${hostname}`, `HOME=${user.home}`],
        spec.tty ? ['TERM=xterm'] : [],
        defaults.env,
        spec.env,
      );
      const record: ContainerRecord = {
        id,
        name,
        image,
        createdAt: new Date().toISOString(),
        spec: {
          ...spec,
          network,
          stopSignal: spec.stopSignal ?? defaults.stopSignal,
          ...(spec.publishAll && network === 'bridge'
            ? { ports: withExposedPorts(spec.ports ?? [], defaults.exposedPorts ?? []) }
            : {}),
        },
        process: {
          args,
          env,
          cwd,
          uid: user.uid,
          gid: user.gid,
          additionalGids: user.additionalGids,
          tty: spec.tty ?? false,
          ...(capabilities !== undefined ? { capabilities } : {}),
        },
        hostname,
        stopSignal: spec.stopSignal ?? defaults.stopSignal ?? stopSignal,
        rootfs: prepared.rootfs,
        lowerDirs: prepared.lowerDirs,
        status: 'created',
        restartCount: 0,
        ...(userNamespace ? { userNamespace } : {}),
      };
      await this.store.create(record);
      return this.describe(record);
    } catch (error: unknown) {
      if (spec.userns?.mode === 'auto') releaseAutoRange(this.autoRangeClaims(), id);
      await this.store.releaseName(name);
      await this.store.delete(id);
      throw error;
    }
  }

  /** Starts the container; resolves once the user's program runs (or rejects with the reason it cannot). */
  async start(reference: string): Promise<ContainerInfo> {
    const { record, launch } = await this.launch(reference, false);
    await this.awaitStart(record, launch.started);
    return this.describe(record);
  }

  /**
   * Starts a tty container held until a client attaches (`run -it`), so no output is missed;
   * resolves with the attached terminal socket once the program runs.
   */
  async startAttached(
    reference: string,
    size: { rows: number; columns: number } = { rows: 24, columns: 80 },
  ): Promise<{ info: ContainerInfo; terminal: Socket }> {
    const { record, launch } = await this.launch(reference, true);
    let terminal: Socket | undefined;
    try {
      await launch.created;
      terminal = await this.connectAttach(record.id);
      // The shim releases the init once this first frame has set the terminal's size.
      terminal.write(encodeResize(size.rows, size.columns));
    } catch {
      // The start itself failed; awaitStart reports why.
    }
    await this.awaitStart(record, launch.started);
    if (!terminal)
      throw new ContainerError(
        'StartFailed',
        `container ${record.name} started but its terminal could not be attached`,
      );
    return { info: await this.describe(record), terminal };
  }

  /**
   * What a container's exit hook runs (see restartCommand): starts it again if its restart policy
   * says so, after Docker's back-off (100 ms doubling per restart, at most 10 s), unless it was
   * stopped with `stop` or started or removed meanwhile. One hook at a time per container.
   */
  async restartOnExit(reference: string): Promise<'restarted' | 'left-stopped'> {
    const id = (await this.load(reference)).id;
    return withFileLock(join(this.store.directoryOf(id), 'restart.lock'), async () => {
      const record = await this.load(id);
      const state = await this.stateOf(record);
      if (state.status !== 'stopped') return 'left-stopped';
      const refusal = restartRefusal(record, state.exit?.exitCode);
      if (refusal !== undefined) {
        record.restartPolicyStopped = refusal;
        await this.store.save(record);
        return 'left-stopped';
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** record.restartCount, 10_000)));
      const now = await this.load(id).catch(() => undefined);
      if (now === undefined || now.stoppedByUser || (await this.stateOf(now)).status !== 'stopped') {
        return 'left-stopped';
      }
      await this.start(id);
      return 'restarted';
    });
  }

  async stop(reference: string, options: StopOptions = {}): Promise<ContainerInfo> {
    const record = await this.load(reference);
    const state = await this.stateOf(record);
    const restarts = restartsOnExit(record);
    // Between an exit and its restart the container is stopped; a stop then cancels the restart.
    if (!(restarts && state.status === 'stopped')) nextStatus(record.name, state.status, 'stop');
    if (restarts) {
      // Recorded before the signal, so the exit hook the signal brings about finds it.
      record.stoppedByUser = true;
      await this.store.save(record);
      if (state.status === 'stopped') return this.inspect(record.id);
    }
    const signal = parseSignal(options.signal ?? record.stopSignal);
    const graceMs = (options.timeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS) * 1000;
    await this.signalInit(record, signal);
    if (!(await this.waitUntilStopped(record, graceMs))) {
      await this.signalInit(record, SIGKILL);
      await this.waitUntilStopped(record, Number.POSITIVE_INFINITY);
    }
    return this.inspect(record.id);
  }

  async kill(reference: string, signal = 'SIGKILL'): Promise<ContainerInfo> {
    const record = await this.load(reference);
    nextStatus(record.name, (await this.stateOf(record)).status, 'kill');
    await this.signalInit(record, parseSignal(signal));
    return this.inspect(record.id);
  }

  /**
   * The exit status once the container's init has ended (at once if it already has). An aborted
   * signal ends the wait with the signal's reason, so a watcher can stop without the container.
   */
  async wait(reference: string, options: { signal?: AbortSignal } = {}): Promise<ShimExitStatus> {
    const record = await this.load(reference);
    if (record.status === 'created') {
      throw new ContainerError(
        'InvalidState',
        `container ${record.name} was never started: start it before waiting on it`,
      );
    }
    await this.waitUntilStopped(record, Number.POSITIVE_INFINITY, options.signal);
    const state = await this.stateOf(record);
    if (!state.exit)
      throw new ContainerError('InvalidState', `container ${record.name} ended without an exit status`);
    return state.exit;
  }

  async remove(reference: string, options: { force?: boolean } = {}): Promise<void> {
    const record = await this.load(reference);
    const state = await this.stateOf(record);
    if (state.status === 'running' && options.force) {
      await this.signalInit(record, SIGKILL);
      await this.waitUntilStopped(record, Number.POSITIVE_INFINITY);
    } else {
      nextStatus(record.name, state.status, 'remove');
    }
    const containerDir = this.store.directoryOf(record.id);
    const cgroup = await this.options.cgroups?.open(record.id);
    await cgroup?.destroy();
    // Detach even when the record has no attachment: a start that failed half-way may have made one.
    await this.options.network?.detach(record.id);
    const provider = record.spec.rootfsDir !== undefined ? this.directories : this.options.images;
    await provider?.release({ containerId: record.id, containerDir });
    if (record.spec.userns?.mode === 'auto') releaseAutoRange(this.autoRangeClaims(), record.id);
    await this.store.releaseName(record.name);
    await this.store.delete(record.id);
  }

  /** STATE/userns-auto/SLOT: the --userns=auto ranges held, one file per slot naming its container. */
  private autoRangeClaims(): string {
    return join(this.store.stateDir, 'userns-auto');
  }

  /** The maps for the request; called once the container's directory exists (it marks an auto claim live). */
  private userNamespaceFor(spec: ContainerSpec, id: string): UserNamespaceMaps | undefined {
    if (spec.userns === undefined) return undefined;
    if (spec.userns.mode === 'map') {
      const maps = { uidMappings: spec.userns.uidMappings, gidMappings: spec.userns.gidMappings };
      validateMaps(maps);
      return maps;
    }
    return claimAutoRange({
      claimsDir: this.autoRangeClaims(),
      containerId: id,
      exists: (holder) => /^[0-9a-f]{64}$/.test(holder) && existsSync(this.store.directoryOf(holder)),
    });
  }

  /** The record and its state, and the block I/O so far while the container has a cgroup. */
  async inspect(reference: string): Promise<ContainerInfo> {
    const record = await this.load(reference);
    const info = await this.describe(record);
    const cgroup = await this.options.cgroups?.open(record.id);
    const blockIo = cgroup ? (await cgroup.usage()).blockIo : undefined;
    return blockIo !== undefined ? { ...info, blockIo } : info;
  }

  async list(options: { all?: boolean } = {}): Promise<ContainerInfo[]> {
    const infos: ContainerInfo[] = [];
    for (const id of await this.store.ids()) {
      const record = await this.store.load(id);
      if (!record) continue; // being created or removed by another process right now
      const info = await this.describe(record);
      if (await this.removeIfExitedWithAutoRemove(record, info.state)) continue;
      if (options.all || info.state.status === 'running') infos.push(info);
    }
    return infos.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async logs(
    reference: string,
    options: Omit<LogReadOptions, 'isRunning'> = {},
  ): Promise<AsyncGenerator<LogEntry>> {
    const record = await this.load(reference);
    return readContainerLog(join(this.store.directoryOf(record.id), 'container.log'), {
      ...options,
      isRunning: async () => (await this.stateOf(record)).status === 'running',
    });
  }

  /** Runs one more process in the running container: same namespaces, cgroup, capabilities and no_new_privs. */
  async exec(reference: string, options: ExecOptions): Promise<ChildProcess> {
    const record = await this.load(reference);
    if ((await this.stateOf(record)).status !== 'running') {
      throw new ContainerError(
        'InvalidState',
        `container ${record.name} is not running: start it before exec`,
      );
    }
    if (options.args.length === 0) throw new ContainerError('InvalidSpec', 'exec needs a command');
    const user =
      options.user !== undefined ? await resolveUser(options.user, record.lowerDirs) : record.process;
    const cwd = options.workingDir ?? record.process.cwd;
    if (!isAbsolute(cwd))
      throw new ContainerError('InvalidSpec', `working directory "${cwd}" must be absolute`);
    const cgroup = await this.options.cgroups?.open(record.id);
    const containerDir = this.store.directoryOf(record.id);
    const configPath = join(containerDir, `exec-${this.store.newId().slice(0, 16)}.conf`);
    await writeFile(
      configPath,
      renderShimExecConfig({
        process: {
          args: options.args,
          env: mergeEnv(record.process.env, options.tty ? ['TERM=xterm'] : [], options.env),
          cwd,
          uid: user.uid,
          gid: user.gid,
          additionalGids: user.additionalGids,
          tty: options.tty ?? false,
          ...(record.process.capabilities !== undefined ? { capabilities: record.process.capabilities } : {}),
        },
        ...shimCgroupOf(cgroup),
      }),
    );
    const child = spawnShimExec(this.shimPath, containerDir, configPath, {
      inheritStdio: options.inheritStdio ?? false,
      resizeChannel: options.resizable === true && options.tty === true,
    });
    child.once('close', () => void unlink(configPath).catch(() => undefined));
    return child;
  }

  /**
   * Runs `work` with the container's processes frozen when it is running (as `docker commit`
   * pauses by default), so what it reads is not written meanwhile; thaws it afterwards, whatever
   * `work` did. A container that is not running is left alone.
   */
  async withPaused<T>(reference: string, work: () => Promise<T>): Promise<T> {
    const record = await this.load(reference);
    if ((await this.stateOf(record)).status !== 'running') return work();
    const cgroup = await this.options.cgroups?.open(record.id);
    if (!cgroup?.freeze || !cgroup.thaw) {
      throw new ContainerError(
        'InvalidState',
        `container ${record.name} has no freezer cgroup to pause it in: stop it first, or do not pause`,
      );
    }
    await cgroup.freeze();
    try {
      return await work();
    } finally {
      await cgroup.thaw();
    }
  }

  async stats(reference: string): Promise<ContainerStats> {
    const record = await this.load(reference);
    const cgroup = await this.options.cgroups?.open(record.id);
    if (!cgroup) {
      throw new ContainerError(
        'InvalidState',
        `container ${record.name} has no cgroup to read usage from (is it running?)`,
      );
    }
    return { id: record.id, name: record.name, usage: await cgroup.usage() };
  }

  /**
   * The attach socket of a running container: its terminal (tty), or its stdin (`-i` without a
   * tty: write encodeStdin frames, then encodeCloseStdin; output is in the log).
   */
  async attach(reference: string): Promise<Socket> {
    const record = await this.load(reference);
    if (!record.process.tty && !record.spec.stdin) {
      throw new ContainerError(
        'InvalidState',
        `container ${record.name} has neither a terminal nor an open stdin: use logs -f to follow its output`,
      );
    }
    if ((await this.stateOf(record)).status !== 'running') {
      throw new ContainerError('InvalidState', `container ${record.name} is not running`);
    }
    return this.connectAttach(record.id);
  }

  /**
   * The safety net behind the shim's exit command: an autoRemove container that has stopped, whose
   * shim (and so the exit command that replaced it) is gone, is removed here. Another process may
   * be removing it at the same moment; whoever loses finds nothing left to do.
   */
  private async removeIfExitedWithAutoRemove(
    record: ContainerRecord,
    state: ContainerState,
  ): Promise<boolean> {
    if (!record.spec.autoRemove || state.status !== 'stopped') return false;
    const shim = await this.identity(this.store.directoryOf(record.id), 'shim.pid');
    if (shim && (await isSameProcessAlive(shim))) return false;
    await this.remove(record.id).catch(() => undefined);
    return true;
  }

  private async load(reference: string): Promise<ContainerRecord> {
    const id = await this.store.resolve(reference);
    const record = await this.store.load(id);
    if (!record) throw new ContainerError('NotFound', `no such container: ${reference}`);
    return record;
  }

  private async describe(record: ContainerRecord): Promise<ContainerInfo> {
    return { ...record, state: await this.stateOf(record), directory: this.store.directoryOf(record.id) };
  }

  /** The truth comes from the shim's files, whatever the record last said. */
  private async stateOf(record: ContainerRecord): Promise<ContainerState> {
    if (record.status === 'created' || record.status === 'removed') return { status: record.status };
    const dir = this.store.directoryOf(record.id);
    const startedAt = record.startedAt;
    const statusText = await readOptional(join(dir, 'status'));
    if (statusText !== undefined) {
      return { status: 'stopped', ...(startedAt ? { startedAt } : {}), exit: parseShimStatus(statusText) };
    }
    const init = await this.identity(dir, 'init.pid');
    if (init && (await isSameProcessAlive(init)))
      return { status: 'running', pid: init.pid, ...(startedAt ? { startedAt } : {}) };
    // The init is gone; while its shim lives it is still draining output and about to write status.
    const shim = await this.identity(dir, 'shim.pid');
    if (shim && (await isSameProcessAlive(shim)))
      return { status: 'running', ...(startedAt ? { startedAt } : {}) };
    return {
      status: 'stopped',
      ...(startedAt ? { startedAt } : {}),
      exit: {
        exitCode: 255,
        signal: 0,
        oomKilled: false,
        finishedAt: '',
        error: 'the shim ended without recording an exit status (killed, or the node rebooted); see shim.log',
      },
    };
  }

  private async identity(dir: string, file: string): Promise<ProcessIdentity | undefined> {
    const text = await readOptional(join(dir, file));
    return text === undefined ? undefined : parseProcessIdentity(text);
  }

  private async signalInit(record: ContainerRecord, signal: number): Promise<void> {
    const init = await this.identity(this.store.directoryOf(record.id), 'init.pid');
    // A pid whose start time changed belongs to someone else now: never signal it.
    if (!init || !(await isSameProcessAlive(init))) return;
    try {
      process.kill(init.pid, signal);
    } catch (error: unknown) {
      if (errnoCode(error) !== 'ESRCH') throw error;
    }
  }

  private async waitUntilStopped(
    record: ContainerRecord,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const changes = new DirectoryChanges(this.store.directoryOf(record.id));
    try {
      for (;;) {
        signal?.throwIfAborted();
        if ((await this.stateOf(record)).status !== 'running') return true;
        if (Date.now() >= deadline) return false;
        await changes.next(deadline - Date.now(), signal);
      }
    } finally {
      changes.close();
    }
  }

  private async launch(
    reference: string,
    waitForAttach: boolean,
  ): Promise<{ record: ContainerRecord; launch: ShimLaunch }> {
    const record = await this.load(reference);
    const previous = (await this.stateOf(record)).status;
    nextStatus(record.name, previous, 'start');
    if (waitForAttach && !record.process.tty) {
      throw new ContainerError(
        'InvalidSpec',
        `container ${record.name} has no terminal to attach: create it with a tty`,
      );
    }
    const dir = this.store.directoryOf(record.id);
    if (previous === 'stopped') {
      removeShimFiles(dir);
      record.restartCount += 1;
    }
    delete record.stoppedByUser;
    delete record.restartPolicyStopped;

    const cgroup = await this.options.cgroups?.create(record.id, record.spec.resources ?? {});
    const mode = record.spec.network ?? 'none';
    let network: ShimNetwork = mode === 'host' ? { mode: 'host' } : { mode: 'new' };
    if (this.options.network) {
      if (record.network) await this.options.network.detach(record.id);
      record.network = await this.options.network.attach({
        containerId: record.id,
        mode,
        ports: record.spec.ports ?? [],
      });
      const path = record.network.namespacePath;
      if (record.network.mode !== 'host' && path === undefined) {
        throw new ContainerError(
          'StartFailed',
          `the network gave container ${record.name} no namespace to join`,
        );
      }
      network = path === undefined ? { mode: 'host' } : { mode: 'join', path };
    }
    // The root filesystem is data until the shim mounts it; its mount point is ours to provide.
    mkdirSync(record.rootfs.target, { recursive: true });
    writeFileSync(
      join(dir, 'shim.conf'),
      renderShimRunConfig({
        process: record.process,
        hostname: record.hostname,
        rootfs: record.rootfs.target,
        overlayOptions: record.rootfs.options.join(','),
        ...(record.userNamespace
          ? {
              uidMap: renderIdMap(record.userNamespace.uidMappings),
              gidMap: renderIdMap(record.userNamespace.gidMappings),
            }
          : {}),
        readOnlyRootfs: record.spec.readOnlyRootfs ?? false,
        mounts: record.spec.volumes ?? [],
        network,
        ...shimCgroupOf(cgroup),
        ...(cgroup?.oomFile !== undefined ? { oomFile: cgroup.oomFile } : {}),
        waitForAttach,
        ...(record.spec.stdin && !record.process.tty ? { openStdin: true } : {}),
        ...(record.spec.autoRemove && this.options.autoRemoveCommand
          ? { exitCommand: this.options.autoRemoveCommand(record.id) }
          : restartsOnExit(record) && this.options.restartCommand
            ? { exitCommand: this.options.restartCommand(record.id) }
            : {}),
      }),
    );
    return { record, launch: this.launcher ? this.launcher.launch(dir) : launchShim(this.shimPath, dir) };
  }

  private async awaitStart(record: ContainerRecord, started: Promise<void>): Promise<void> {
    try {
      await started;
    } catch (error: unknown) {
      // A failed start leaves the container as it was (created or stopped), as Docker does.
      removeShimFiles(this.store.directoryOf(record.id));
      if (record.network) await this.options.network?.detach(record.id).catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      throw new ContainerError('StartFailed', `container ${record.name} did not start: ${reason}`);
    }
    record.status = 'running';
    record.startedAt = new Date().toISOString();
    await this.store.save(record);
  }

  /** sun_path holds 108 bytes; a long state dir is reached through an open directory fd instead. */
  private connectAttach(id: string): Promise<Socket> {
    const dir = this.store.directoryOf(id);
    const direct = join(dir, ATTACH_SOCKET_NAME);
    const dirFd = direct.length >= 100 ? openSync(dir, 'r') : undefined;
    const path = dirFd === undefined ? direct : `/proc/self/fd/${dirFd}/${ATTACH_SOCKET_NAME}`;
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const finish = (): void => {
        if (dirFd !== undefined) closeSync(dirFd);
      };
      socket.once('connect', () => {
        finish();
        resolve(socket);
      });
      socket.once('error', (error) => {
        finish();
        reject(new ContainerError('InvalidState', `cannot attach to ${id.slice(0, 12)}: ${error.message}`));
      });
    });
  }
}
