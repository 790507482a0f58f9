// The pod engine of one node: turns the desired pods into containers through @flotilla/runtime and
// reports their status. Level-triggered like kubelet: one reconcile per pod at a time (parallel across
// pods), triggered by desired-set changes, container exits, probe results, back-off timers and a
// periodic resync; every reconcile compares the pod with what runs and acts on the difference.
// Everything needed to carry on after a restart is on disk (pod-state.store.ts); containers keep
// running under their shims and are re-adopted with the same IDs.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { constants as osConstants } from 'node:os';
import {
  applyDefaults,
  kubeTimestamp,
  type ConfigMap,
  type Container,
  type Pod,
  type Secret,
} from '@flotilla/api';
import {
  ContainerError,
  ContainerManager,
  ImageRootfsProvider,
  ImageStore,
  locateShimBinary,
  readContainerLog,
  RegistryClient,
  ResidentShimLauncher,
  resizeExec,
  type ContainerInfo,
  type PortMapping,
  type VolumeMount,
} from '@flotilla/runtime';
import {
  ContainerConfigError,
  containerEnv,
  expandCommand,
  objectKey,
  referencedObjects,
} from './container-env.util';
import { ImagePuller, ImagePullError } from './images/image-puller';
import type { NodePodsOptions } from './node-pods.options';
import {
  NodePodsError,
  type NodePods,
  type NodeUsageSample,
  type PodExecRequest,
  type PodExecSession,
  type PodLogsRequest,
  type PodStatusReport,
  type PodUsageSample,
} from './node-pods.types';
import { hostsFile, podHostname, resolvConf } from './pod-dns.util';
import { formatLogEntry, logSource } from './pod-logs.util';
import { containerCgroupLimits, podCgroupLimits } from './pod-resources.util';
import { PodStateStore, type ContainerSlot, type InstanceRecord, type PodState } from './pod-state.store';
import {
  computePodStatus,
  terminationReason,
  type ContainerObservation,
  type TerminatedState,
} from './pod-status.util';
import { ProbeWorker, type ProbeKind } from './probes/probe-worker';
import { runProbe } from './probes/probe-runner';
import {
  formatGoDuration,
  KUBERNETES_BACKOFF,
  restartDecision,
  type BackoffEntry,
  type BackoffPolicy,
} from './restart-backoff.util';
import { PodCgroups } from './sandbox/pod-cgroups';
import { PodNetwork } from './sandbox/pod-network';
import { mountsFor, setUpVolumes, tearDownVolumes, VolumeError } from './volumes/pod-volumes';
import { readHostUsage } from '../usage/host-usage.reader';

type ContainerKind = 'init' | 'app';

interface Waiting {
  reason: string;
  message?: string;
}

/** What the engine holds in memory per pod, beside the persisted PodState. */
interface PodRuntime {
  state: PodState;
  desired?: Pod;
  /** What of the desired pod a reconcile acts on (see intentOf), to skip status-only updates. */
  intent?: string;
  removed: boolean;
  terminating: boolean;
  released: boolean;
  dirty: boolean;
  loop?: Promise<void>;
  wake?: NodeJS.Timeout;
  wakeAtMs?: number;
  infraReady: boolean;
  refreshVolumes: boolean;
  volumePaths?: Map<string, string>;
  /** Why a container of the pod waits (ErrImagePull, CrashLoopBackOff...), by kind/name. */
  waiting: Map<string, Waiting>;
  pullBackoff: Map<string, BackoffEntry>;
  /** Start times of running instances, by container ID. */
  runningSince: Map<string, string>;
  probes: Map<string, ProbeWorker[]>;
  exitWatches: Map<string, AbortController>;
  lastReport?: PodStatusReport;
}

const DEFAULT_RESYNC_MS = 10_000;
const INFRA_RETRY_MS = 2_000;
/** How long a reconcile may start containers before the status so far is reported anyway. */
const INTERIM_REPORT_MS = 500;
const DEFAULT_GRACE_SECONDS = 30;
/** kubelet gives the stop signal at least this long once a preStop hook has run. */
const MIN_GRACE_AFTER_HOOK_SECONDS = 2;

function keyOf(kind: ContainerKind, name: string): string {
  return `${kind}/${name}`;
}

/**
 * The parts of a pod the engine acts on. Every status the agent reports comes back down the stream
 * as an update of the pod; like kubelet (which reconciles only when these change), the engine leaves
 * those alone instead of running a whole reconcile per report.
 */
function intentOf(pod: Pod): string {
  const { labels, annotations, deletionTimestamp, deletionGracePeriodSeconds } = pod.metadata;
  return JSON.stringify([pod.spec, labels, annotations, deletionTimestamp, deletionGracePeriodSeconds]);
}

function specHash(container: Container): string {
  return createHash('sha256').update(JSON.stringify(container)).digest('hex').slice(0, 16);
}

function containerIdOf(flotillaId: string): string {
  return flotillaId.replace(/^flotilla:\/\//, '');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : ((osConstants.signals as Record<string, number>)[signal] ?? 0);
}

/** Container names the runtime accepts (≤128): readable where they fit, unique always. */
function runtimeName(pod: PodState, container: string, attempt: number): string {
  const readable = `k8s_${container}_${pod.name}_${pod.namespace}_${pod.uid.slice(0, 8)}_${attempt}`;
  return readable.length <= 128 ? readable : `k8s_${container}_${pod.uid}_${attempt}`;
}

function slotsOf(state: PodState, kind: ContainerKind): Record<string, ContainerSlot> {
  return kind === 'init' ? state.initContainers : state.containers;
}

function slotOf(state: PodState, kind: ContainerKind, name: string): ContainerSlot {
  const slots = slotsOf(state, kind);
  let slot = slots[name];
  if (!slot) {
    slot = { restartCount: 0 };
    slots[name] = slot;
  }
  return slot;
}

function shouldRestart(policy: string, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

export class PodEngine implements NodePods {
  private readonly pods = new Map<string, PodRuntime>();
  private readonly listeners = new Set<(report: PodStatusReport) => void>();
  private readonly store: PodStateStore;
  private readonly restartPolicy: BackoffPolicy;
  private readonly pullPolicy: BackoffPolicy;
  private readonly log: (message: string) => void;
  private resync?: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly options: NodePodsOptions,
    private readonly manager: ContainerManager,
    private readonly network: PodNetwork,
    private readonly cgroups: PodCgroups,
    private readonly puller: ImagePuller,
  ) {
    this.store = new PodStateStore(join(options.stateDir, 'pods'));
    this.restartPolicy = options.restartBackoff ?? KUBERNETES_BACKOFF;
    this.pullPolicy = options.imagePullBackoff ?? options.restartBackoff ?? KUBERNETES_BACKOFF;
    this.log = options.log ?? ((message) => process.stderr.write(`node-pods: ${message}\n`));
  }

  static async create(options: NodePodsOptions): Promise<PodEngine> {
    const images = new ImageStore({ stateDir: options.stateDir });
    // One launcher process starts the containers' shims and configures the pods' namespaces.
    const shimPath = options.shimPath ?? locateShimBinary();
    const launcher = new ResidentShimLauncher(shimPath);
    const network = new PodNetwork({
      stateDir: options.stateDir,
      podCidr: options.podCidr,
      bridgeName: options.bridgeName,
      ...(options.firewallTable !== undefined ? { firewallTable: options.firewallTable } : {}),
      ...(options.clusterCidr !== undefined ? { clusterCidr: options.clusterCidr } : {}),
      namespaceConfigurator: launcher,
    });
    const cgroups = await PodCgroups.open({
      parent: options.cgroupParent,
      ...(options.cgroupRoot !== undefined ? { cgroupRoot: options.cgroupRoot } : {}),
      ...(options.allocatable !== undefined ? { allocatable: options.allocatable } : {}),
    });
    const manager = new ContainerManager({
      stateDir: options.stateDir,
      shimPath,
      launcher,
      images: new ImageRootfsProvider(images),
      cgroups,
      network,
    });
    const puller = new ImagePuller({
      store: images,
      registry: new RegistryClient({ insecureRegistries: options.insecureRegistries ?? [] }),
      ...(options.defaultRegistry !== undefined ? { defaultRegistry: options.defaultRegistry } : {}),
    });
    const engine = new PodEngine(options, manager, network, cgroups, puller);
    await engine.adopt();
    engine.resync = setInterval(() => engine.resyncAll(), options.resyncIntervalMs ?? DEFAULT_RESYNC_MS);
    engine.resync.unref();
    return engine;
  }

  // ---- NodePods -------------------------------------------------------------------------------------

  replaceDesired(pods: readonly Pod[]): void {
    const wanted = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata.uid;
      if (uid === undefined) continue;
      wanted.add(uid);
      this.upsertDesired(pod);
    }
    for (const [uid, runtime] of this.pods) {
      if (wanted.has(uid) || runtime.removed) continue;
      runtime.removed = true;
      this.schedule(uid);
    }
  }

  upsertDesired(pod: Pod): void {
    const uid = pod.metadata.uid;
    if (this.closed) return;
    if (uid === undefined || pod.metadata.name === undefined) {
      this.log(`ignoring a pod without metadata.uid or metadata.name: ${JSON.stringify(pod.metadata)}`);
      return;
    }
    const intent = intentOf(pod);
    const known = this.pods.get(uid);
    if (known?.desired !== undefined && !known.removed && known.intent === intent) return;
    const defaulted = applyDefaults('Pod', pod);
    let runtime = known;
    if (!runtime) {
      runtime = this.newRuntime({
        uid,
        namespace: pod.metadata.namespace ?? 'default',
        name: pod.metadata.name,
        pod: defaulted,
        startTime: kubeTimestamp(),
        initContainers: {},
        containers: {},
      });
    }
    if (runtime.terminating) return;
    runtime.desired = defaulted;
    runtime.intent = intent;
    runtime.removed = false;
    this.schedule(uid);
  }

  removeDesired(uid: string): void {
    const runtime = this.pods.get(uid);
    if (!runtime) return;
    runtime.removed = true;
    this.schedule(uid);
  }

  onStatus(listener: (report: PodStatusReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  currentStatuses(): PodStatusReport[] {
    return [...this.pods.values()].flatMap((runtime) => (runtime.lastReport ? [runtime.lastReport] : []));
  }

  async usage(): Promise<NodeUsageSample> {
    const cgroup = this.options.nodeUsageCgroup;
    const node = await (cgroup === undefined ? readHostUsage() : this.cgroups.usageOf(cgroup)).catch(
      () => undefined,
    );
    const pods: PodUsageSample[] = [];
    for (const runtime of this.pods.values()) {
      if (runtime.released) continue;
      const containers = [];
      for (const [name, slot] of Object.entries(runtime.state.containers)) {
        const id = slot.current?.id;
        if (id === undefined || slot.current?.terminated) continue;
        const stats = await this.manager.stats(id).catch(() => undefined);
        if (stats) {
          containers.push({
            name,
            cpuUsageNanos: stats.usage.cpuUsageNanos,
            memoryWorkingSetBytes: stats.usage.memoryBytes,
          });
        }
      }
      pods.push({
        namespace: runtime.state.namespace,
        name: runtime.state.name,
        uid: runtime.state.uid,
        containers,
      });
    }
    return {
      time: new Date().toISOString(),
      nodeCpuUsageNanos: node?.cpuUsageNanos ?? 0n,
      nodeMemoryWorkingSetBytes: node?.memoryBytes ?? 0,
      pods,
    };
  }

  async logs(request: PodLogsRequest): Promise<Readable> {
    const runtime = this.findPod(request.namespace, request.pod);
    const status = this.containerStatusFor(runtime, request.container, 'logs');
    const source = logSource(status, request.pod, request.previous);
    if ('error' in source) throw new NodePodsError('BadRequest', source.error);
    const id = containerIdOf(source.containerID);
    const controller = new AbortController();
    const entries = readContainerLog(join(this.manager.store.directoryOf(id), 'container.log'), {
      follow: request.follow,
      signal: controller.signal,
      ...(request.tailLines !== undefined ? { tail: request.tailLines } : {}),
      ...(request.sinceSeconds !== undefined
        ? { since: new Date(Date.now() - request.sinceSeconds * 1000) }
        : {}),
      isRunning: async () =>
        (await this.manager.inspect(id).catch(() => undefined))?.state.status === 'running' &&
        !controller.signal.aborted,
    });
    const timestamps = request.timestamps;
    const stream = Readable.from(
      (async function* () {
        for await (const entry of entries) yield formatLogEntry(entry, timestamps);
      })(),
    );
    stream.once('close', () => controller.abort());
    return stream;
  }

  async exec(request: PodExecRequest): Promise<PodExecSession> {
    const runtime = this.findPod(request.namespace, request.pod);
    const status = this.containerStatusFor(runtime, request.container, 'exec');
    if (!status.state?.running || status.containerID === undefined) {
      throw new NodePodsError(
        'BadRequest',
        `container ${status.name} in pod ${request.pod} is not running; exec needs a running container`,
      );
    }
    if (request.command.length === 0) throw new NodePodsError('BadRequest', 'exec needs a command to run');
    const child = await this.manager
      .exec(containerIdOf(status.containerID), {
        args: request.command,
        tty: request.tty,
        resizable: request.tty,
      })
      .catch((error: unknown) => {
        throw new NodePodsError('Internal', `exec in ${status.name} failed: ${errorText(error)}`);
      });
    if (!child.stdout || !child.stdin)
      throw new NodePodsError('Internal', 'exec did not give the process pipes');
    if (!request.stdin) child.stdin.end();
    const exited = new Promise<number>((resolve) => {
      child.once('error', () => resolve(126));
      child.once('close', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
    });
    return {
      ...(request.stdin ? { stdin: child.stdin } : {}),
      stdout: child.stdout,
      ...(request.tty || !child.stderr ? {} : { stderr: child.stderr }),
      resize: (size) => resizeExec(child, size),
      exited,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.resync) clearInterval(this.resync);
    const loops: Array<Promise<void>> = [];
    for (const runtime of this.pods.values()) {
      if (runtime.loop) loops.push(runtime.loop);
    }
    await Promise.allSettled(loops);
    for (const runtime of this.pods.values()) {
      if (runtime.wake) clearTimeout(runtime.wake);
      for (const workers of runtime.probes.values()) for (const worker of workers) worker.stop();
      runtime.probes.clear();
      for (const controller of runtime.exitWatches.values())
        controller.abort(new Error('the pod engine closed'));
      runtime.exitWatches.clear();
    }
  }

  // ---- scheduling -----------------------------------------------------------------------------------

  private newRuntime(state: PodState): PodRuntime {
    const runtime: PodRuntime = {
      state,
      removed: false,
      terminating: false,
      released: false,
      dirty: false,
      infraReady: false,
      refreshVolumes: true,
      waiting: new Map(),
      pullBackoff: new Map(),
      runningSince: new Map(),
      probes: new Map(),
      exitWatches: new Map(),
    };
    this.pods.set(state.uid, runtime);
    return runtime;
  }

  private schedule(uid: string): void {
    const runtime = this.pods.get(uid);
    if (!runtime || this.closed || runtime.released) return;
    runtime.dirty = true;
    if (runtime.loop) return;
    runtime.loop = (async () => {
      while (runtime.dirty && !this.closed && !runtime.released) {
        runtime.dirty = false;
        try {
          await this.sync(runtime);
        } catch (error) {
          this.log(`pod ${runtime.state.namespace}/${runtime.state.name}: ${errorText(error)}`);
          this.wakeAt(runtime, Date.now() + INFRA_RETRY_MS);
        }
      }
      runtime.loop = undefined;
    })();
  }

  private wakeAt(runtime: PodRuntime, atMs: number): void {
    if (this.closed) return;
    if (runtime.wake && runtime.wakeAtMs !== undefined && runtime.wakeAtMs <= atMs) return;
    if (runtime.wake) clearTimeout(runtime.wake);
    runtime.wakeAtMs = atMs;
    runtime.wake = setTimeout(
      () => {
        runtime.wake = undefined;
        runtime.wakeAtMs = undefined;
        this.schedule(runtime.state.uid);
      },
      Math.max(0, atMs - Date.now()),
    );
    runtime.wake.unref();
  }

  private resyncAll(): void {
    for (const [uid, runtime] of this.pods) {
      runtime.refreshVolumes = true;
      this.schedule(uid);
    }
  }

  /** Reads every pod this node recorded; running containers are picked up by their first reconcile. */
  private async adopt(): Promise<void> {
    const states = await this.store.loadAll((uid, error) =>
      this.log(
        `cannot read the state of pod ${uid} (${error.message}); remove ${this.store.podDir(uid)} if the pod is gone`,
      ),
    );
    for (const state of states) {
      const runtime = this.newRuntime(state);
      if (state.lastStatus) {
        runtime.lastReport = {
          namespace: state.namespace,
          name: state.name,
          uid: state.uid,
          status: state.lastStatus,
          released: false,
        };
      }
      for (const kind of ['init', 'app'] as const) {
        for (const slot of Object.values(slotsOf(state, kind))) {
          for (const instance of [slot.current, slot.previous]) {
            if (instance) this.registerInstance(state, instance.id);
          }
        }
      }
      this.schedule(state.uid);
    }
  }

  private registerInstance(state: PodState, id: string): void {
    if (state.sandbox) this.network.register(id, state.sandbox);
    this.cgroups.register(id, state.uid);
  }

  // ---- reconcile ------------------------------------------------------------------------------------

  private podOf(runtime: PodRuntime): Pod {
    return runtime.desired ?? runtime.state.pod;
  }

  private async sync(runtime: PodRuntime): Promise<void> {
    const pod = this.podOf(runtime);
    if (runtime.removed || runtime.terminating || pod.metadata.deletionTimestamp !== undefined) {
      await this.terminate(runtime);
      return;
    }
    runtime.state.pod = pod;
    const infraError = await this.ensureInfra(runtime);
    if (infraError !== undefined) {
      this.log(`pod ${runtime.state.namespace}/${runtime.state.name}: ${infraError}`);
      await this.persist(runtime);
      this.report(runtime);
      this.wakeAt(runtime, Date.now() + INFRA_RETRY_MS);
      return;
    }
    // The sandbox's status (pod IP, ContainerCreating) goes up only if the containers take a while:
    // a pod that starts at once is written once, Running, instead of twice in a few milliseconds,
    // which under a burst of starts halves the status writes queued at the apiserver.
    // Reported before the state is saved, so the saved state carries the status a restarted agent
    // starts from.
    const interim = setTimeout(() => this.report(runtime), INTERIM_REPORT_MS);
    try {
      await this.syncContainers(runtime);
    } finally {
      clearTimeout(interim);
    }
    this.report(runtime);
    await this.persist(runtime);
  }

  private async persist(runtime: PodRuntime): Promise<void> {
    if (runtime.released) return;
    await this.store.save(runtime.state);
  }

  /** Cgroup, network namespace, /etc files and volumes; returns why the pod cannot start yet. */
  private async ensureInfra(runtime: PodRuntime): Promise<string | undefined> {
    const { state } = runtime;
    const pod = state.pod;
    const podDir = this.store.podDir(state.uid);
    try {
      if (!runtime.infraReady) {
        await mkdir(join(podDir, 'etc'), { recursive: true });
        await this.cgroups.ensurePod(state.uid, podCgroupLimits(pod.spec));
        if (!state.sandbox) {
          state.sandbox = pod.spec.hostNetwork
            ? { hostNetwork: true, ...(this.options.nodeIP !== undefined ? { ip: this.options.nodeIP } : {}) }
            : await this.network.setUp(state.uid, this.hostPorts(pod));
          await this.persist(runtime);
        }
        await this.writeEtcFiles(runtime, podDir);
        runtime.infraReady = true;
      }
      if (runtime.refreshVolumes || !runtime.volumePaths) {
        runtime.volumePaths = await setUpVolumes({
          pod,
          podDir,
          ...(this.options.resolveObject ? { resolveObject: this.options.resolveObject } : {}),
        });
        runtime.refreshVolumes = false;
      }
      return undefined;
    } catch (error) {
      if (error instanceof VolumeError) return `MountVolume.SetUp failed: ${error.message}`;
      return `pod sandbox: ${errorText(error)}`;
    }
  }

  private hostPorts(pod: Pod): PortMapping[] {
    const mappings: PortMapping[] = [];
    for (const container of pod.spec.containers) {
      for (const port of container.ports ?? []) {
        if (port.hostPort === undefined || port.hostPort === 0) continue;
        mappings.push({
          hostPort: port.hostPort,
          containerPort: port.containerPort,
          protocol: port.protocol === 'UDP' ? 'udp' : 'tcp',
        });
      }
    }
    return mappings;
  }

  private async writeEtcFiles(runtime: PodRuntime, podDir: string): Promise<void> {
    const { state } = runtime;
    const pod = state.pod;
    const hostNetwork = pod.spec.hostNetwork === true;
    const name = hostNetwork ? hostname() : podHostname(state.name, pod.spec);
    const hostResolv = await readFile(this.options.hostResolvConfPath ?? '/etc/resolv.conf', 'utf8').catch(
      () => '',
    );
    const hosts = hostNetwork
      ? await readFile('/etc/hosts', 'utf8').catch(() =>
          hostsFile({ hostname: name, namespace: state.namespace }),
        )
      : hostsFile({
          hostname: name,
          namespace: state.namespace,
          ...(state.sandbox?.ip !== undefined ? { podIP: state.sandbox.ip } : {}),
          ...(pod.spec.subdomain !== undefined ? { subdomain: pod.spec.subdomain } : {}),
          ...(this.options.clusterDns?.domain !== undefined
            ? { domain: this.options.clusterDns.domain }
            : {}),
        });
    await writeFile(join(podDir, 'etc', 'hosts'), hosts);
    await writeFile(join(podDir, 'etc', 'hostname'), `${name}\n`);
    await writeFile(
      join(podDir, 'etc', 'resolv.conf'),
      resolvConf({
        spec: pod.spec,
        namespace: state.namespace,
        hostResolvConf: hostResolv,
        ...(this.options.clusterDns ? { clusterDns: this.options.clusterDns } : {}),
      }),
    );
  }

  private async syncContainers(runtime: PodRuntime): Promise<void> {
    const spec = runtime.state.pod.spec;
    const policy = spec.restartPolicy ?? 'Always';
    for (const container of spec.initContainers ?? []) await this.observe(runtime, 'init', container);
    for (const container of spec.containers) await this.observe(runtime, 'app', container);

    for (const container of spec.initContainers ?? []) {
      const current = slotOf(runtime.state, 'init', container.name).current;
      if (current?.terminated?.exitCode === 0) continue;
      if (!current) await this.startInstance(runtime, 'init', container);
      else if (current.terminated && policy !== 'Never')
        await this.restartWithBackoff(runtime, 'init', container);
      // Running, or failed for good (restartPolicy Never): the app containers wait either way.
      return;
    }
    for (const container of spec.containers) {
      const slot = slotOf(runtime.state, 'app', container.name);
      const current = slot.current;
      if (!current) {
        await this.startInstance(runtime, 'app', container);
        continue;
      }
      if (!current.terminated) {
        const why =
          current.specHash !== specHash(container)
            ? 'its spec changed'
            : this.failedProbe(runtime, current.id);
        if (why === undefined) continue;
        this.log(
          `pod ${runtime.state.namespace}/${runtime.state.name}: container ${container.name} ${why}, restarting it`,
        );
        await this.killInstance(runtime, container, current.id, this.graceSeconds(runtime.state.pod));
        await this.observe(runtime, 'app', container);
        if (!current.terminated) continue;
      }
      if (!shouldRestart(policy, current.terminated.exitCode)) continue;
      await this.restartWithBackoff(runtime, 'app', container);
    }
  }

  /** "failed liveness probe" or "failed startup probe" when one has reached its failure threshold. */
  private failedProbe(runtime: PodRuntime, id: string): string | undefined {
    const failed = runtime.probes
      .get(id)
      ?.find((worker) => worker.kind !== 'readiness' && worker.result === 'failure');
    return failed ? `failed ${failed.kind} probe (${failed.lastMessage ?? 'no detail'})` : undefined;
  }

  /** Reads the current instance's state from the runtime, and watches it while it runs. */
  private async observe(runtime: PodRuntime, kind: ContainerKind, container: Container): Promise<void> {
    const slot = slotOf(runtime.state, kind, container.name);
    const current = slot.current;
    if (!current || current.terminated) return;
    let info: ContainerInfo;
    try {
      info = await this.manager.inspect(current.id);
    } catch (error) {
      if (!(error instanceof ContainerError) || error.code !== 'NotFound') throw error;
      current.terminated = {
        exitCode: 137,
        reason: 'ContainerStatusUnknown',
        message: 'The container could not be located when the pod was terminated',
        containerID: `flotilla://${current.id}`,
      };
      await this.persist(runtime);
      return;
    }
    if (info.state.status === 'created') {
      // The previous engine died between create and start: start it now.
      await this.launch(runtime, kind, container, current);
      return;
    }
    if (info.state.status === 'running') {
      runtime.runningSince.set(
        current.id,
        info.state.startedAt ?? info.startedAt ?? new Date().toISOString(),
      );
      if (!runtime.exitWatches.has(current.id)) this.watchExit(runtime, current.id);
      if (!runtime.probes.has(current.id)) this.startProbes(runtime, kind, container, current);
      return;
    }
    const exit = info.state.exit;
    current.terminated = {
      exitCode: exit?.exitCode ?? 255,
      reason:
        exit?.error !== undefined
          ? 'StartError'
          : terminationReason(exit ?? { exitCode: 255, oomKilled: false }),
      ...(exit?.error !== undefined ? { message: exit.error } : {}),
      ...(info.state.startedAt ? { startedAt: kubeTimestamp(new Date(info.state.startedAt)) } : {}),
      ...(exit?.finishedAt
        ? { finishedAt: kubeTimestamp(new Date(exit.finishedAt)) }
        : { finishedAt: kubeTimestamp() }),
      containerID: `flotilla://${current.id}`,
    };
    this.stopInstanceWatchers(runtime, current.id);
    await this.persist(runtime);
  }

  private stopInstanceWatchers(runtime: PodRuntime, id: string): void {
    for (const worker of runtime.probes.get(id) ?? []) worker.stop();
    runtime.probes.delete(id);
    runtime.exitWatches.get(id)?.abort(new Error('no longer watched'));
    runtime.exitWatches.delete(id);
    runtime.runningSince.delete(id);
  }

  private watchExit(runtime: PodRuntime, id: string): void {
    const controller = new AbortController();
    runtime.exitWatches.set(id, controller);
    this.manager.wait(id, { signal: controller.signal }).then(
      () => this.schedule(runtime.state.uid),
      () => {
        if (!controller.signal.aborted) this.schedule(runtime.state.uid);
      },
    );
  }

  private async restartWithBackoff(
    runtime: PodRuntime,
    kind: ContainerKind,
    container: Container,
  ): Promise<void> {
    const slot = slotOf(runtime.state, kind, container.name);
    const finished = slot.current?.terminated?.finishedAt;
    const finishedAtMs = finished !== undefined ? Date.parse(finished) : Date.now();
    const decision = restartDecision({
      policy: this.restartPolicy,
      ...(slot.backoff ? { entry: slot.backoff } : {}),
      finishedAtMs: Number.isNaN(finishedAtMs) ? Date.now() : finishedAtMs,
      nowMs: Date.now(),
    });
    const key = keyOf(kind, container.name);
    if (decision.action === 'wait') {
      const { name, namespace, uid } = runtime.state;
      runtime.waiting.set(key, {
        reason: 'CrashLoopBackOff',
        message: `back-off ${formatGoDuration(decision.backoffMs)} restarting failed container=${container.name} pod=${name}_${namespace}(${uid})`,
      });
      this.wakeAt(runtime, decision.untilMs);
      return;
    }
    slot.backoff = decision.entry;
    await this.startInstance(runtime, kind, container);
  }

  /** Pulls, configures, creates and starts a new instance of the container. */
  private async startInstance(runtime: PodRuntime, kind: ContainerKind, container: Container): Promise<void> {
    const { state } = runtime;
    const key = keyOf(kind, container.name);
    const slot = slotOf(state, kind, container.name);
    const pullEntry = runtime.pullBackoff.get(key);
    if (pullEntry && Date.now() < pullEntry.lastUpdateMs + pullEntry.backoffMs) {
      runtime.waiting.set(key, {
        reason: 'ImagePullBackOff',
        message: `Back-off pulling image "${container.image ?? ''}"`,
      });
      this.wakeAt(runtime, pullEntry.lastUpdateMs + pullEntry.backoffMs);
      return;
    }
    let image;
    try {
      image = await this.puller.ensure(container);
      runtime.pullBackoff.delete(key);
    } catch (error) {
      if (!(error instanceof ImagePullError)) throw error;
      runtime.waiting.set(key, { reason: error.reason, message: error.message });
      const expired =
        pullEntry !== undefined &&
        Date.now() - pullEntry.lastUpdateMs > (this.pullPolicy.resetMs ?? this.pullPolicy.maxMs * 2);
      const backoffMs =
        pullEntry === undefined || expired
          ? this.pullPolicy.initialMs
          : Math.min(pullEntry.backoffMs * 2, this.pullPolicy.maxMs);
      runtime.pullBackoff.set(key, { backoffMs, lastUpdateMs: Date.now() });
      this.wakeAt(runtime, Date.now() + backoffMs);
      return;
    }
    let spec;
    try {
      spec = await this.containerSpec(
        runtime,
        container,
        image.id,
        slot.restartCount + (slot.current ? 1 : 0),
      );
    } catch (error) {
      if (!(error instanceof ContainerConfigError) && !(error instanceof VolumeError)) throw error;
      runtime.waiting.set(key, { reason: 'CreateContainerConfigError', message: error.message });
      this.wakeAt(runtime, Date.now() + INFRA_RETRY_MS);
      return;
    }
    let info: ContainerInfo;
    try {
      info = await this.manager.create(spec);
    } catch (error) {
      if (!(error instanceof ContainerError)) throw error;
      runtime.waiting.set(key, { reason: 'CreateContainerError', message: error.message });
      this.wakeAt(runtime, Date.now() + INFRA_RETRY_MS);
      return;
    }
    const outdated = slot.previous;
    if (slot.current) {
      slot.previous = slot.current;
      slot.restartCount += 1;
    }
    const instance: InstanceRecord = {
      id: info.id,
      image: image.image,
      imageID: image.imageID,
      specHash: specHash(container),
    };
    slot.current = instance;
    slot.startedOk = false;
    runtime.waiting.delete(key);
    this.registerInstance(state, info.id);
    await this.persist(runtime);
    if (outdated) await this.removeInstance(outdated.id);
    await this.launch(runtime, kind, container, instance);
  }

  private async launch(
    runtime: PodRuntime,
    kind: ContainerKind,
    container: Container,
    instance: InstanceRecord,
  ): Promise<void> {
    this.registerInstance(runtime.state, instance.id);
    try {
      const started = await this.manager.start(instance.id);
      runtime.runningSince.set(
        instance.id,
        started.state.startedAt ?? started.startedAt ?? new Date().toISOString(),
      );
    } catch (error) {
      // As containerd reports a process that could not be started.
      const now = kubeTimestamp();
      instance.terminated = {
        exitCode: 128,
        reason: 'StartError',
        message: errorText(error),
        startedAt: '1970-01-01T00:00:00Z',
        finishedAt: now,
        containerID: `flotilla://${instance.id}`,
      };
      await this.persist(runtime);
      this.schedule(runtime.state.uid);
      return;
    }
    this.watchExit(runtime, instance.id);
    this.startProbes(runtime, kind, container, instance);
  }

  private async containerSpec(
    runtime: PodRuntime,
    container: Container,
    imageId: string,
    attempt: number,
  ): Promise<Parameters<ContainerManager['create']>[0]> {
    const { state } = runtime;
    const pod = state.pod;
    const objects = new Map<string, ConfigMap | Secret>();
    for (const reference of referencedObjects(container)) {
      const object = await this.options.resolveObject?.({ ...reference, namespace: state.namespace });
      if (object !== undefined)
        objects.set(objectKey(reference.kind, reference.name), object as ConfigMap | Secret);
    }
    const env = containerEnv(container, {
      pod,
      nodeName: this.options.nodeName,
      objects,
      ...(state.sandbox?.ip !== undefined ? { podIP: state.sandbox.ip } : {}),
      ...(this.options.nodeIP !== undefined ? { hostIP: this.options.nodeIP } : {}),
      ...(this.options.allocatable ? { allocatable: this.options.allocatable } : {}),
    });
    const podDir = this.store.podDir(state.uid);
    const mounts: VolumeMount[] = [
      ...mountsFor(container, runtime.volumePaths ?? new Map()),
      { source: join(podDir, 'etc', 'hosts'), target: '/etc/hosts', readOnly: false },
      { source: join(podDir, 'etc', 'hostname'), target: '/etc/hostname', readOnly: false },
      { source: join(podDir, 'etc', 'resolv.conf'), target: '/etc/resolv.conf', readOnly: false },
    ];
    const limits = containerCgroupLimits(container);
    const security = { ...pod.spec.securityContext, ...container.securityContext };
    const user =
      security.runAsUser !== undefined
        ? `${security.runAsUser}${security.runAsGroup !== undefined ? `:${security.runAsGroup}` : ''}`
        : undefined;
    const entrypoint = expandCommand(container.command, env);
    const command = expandCommand(container.args, env);
    const hostNetwork = pod.spec.hostNetwork === true;
    return {
      name: runtimeName(state, container.name, attempt),
      image: imageId,
      ...(entrypoint !== undefined ? { entrypoint } : {}),
      ...(command !== undefined ? { command } : {}),
      env,
      ...(container.workingDir ? { workingDir: container.workingDir } : {}),
      ...(user !== undefined ? { user } : {}),
      hostname: hostNetwork ? hostname() : podHostname(state.name, pod.spec),
      tty: container.tty ?? false,
      network: hostNetwork ? 'host' : 'bridge',
      volumes: mounts,
      readOnlyRootfs: security.readOnlyRootFilesystem ?? false,
      resources: {
        cpuShares: limits.cpuShares,
        ...(limits.cpuMillicores !== undefined ? { cpuMillicores: limits.cpuMillicores } : {}),
        ...(limits.memoryBytes !== undefined ? { memoryBytes: limits.memoryBytes } : {}),
      },
      labels: {
        'io.kubernetes.pod.name': state.name,
        'io.kubernetes.pod.namespace': state.namespace,
        'io.kubernetes.pod.uid': state.uid,
        'io.kubernetes.container.name': container.name,
      },
    };
  }

  private startProbes(
    runtime: PodRuntime,
    kind: ContainerKind,
    container: Container,
    instance: InstanceRecord,
  ): void {
    if (kind === 'init' || this.closed) {
      runtime.probes.set(instance.id, []);
      return;
    }
    const slot = slotOf(runtime.state, kind, container.name);
    const since = runtime.runningSince.get(instance.id);
    const startedAtMs = since !== undefined ? Date.parse(since) : Date.now();
    const reported = runtime.lastReport?.status.containerStatuses?.find(
      (status) => status.name === container.name && status.containerID === `flotilla://${instance.id}`,
    );
    const target = {
      container,
      host: runtime.state.sandbox?.ip ?? this.options.nodeIP ?? '127.0.0.1',
      exec: (command: string[]) => this.manager.exec(instance.id, { args: command }),
    };
    const workers: ProbeWorker[] = [];
    const uid = runtime.state.uid;
    let startup: ProbeWorker | undefined;
    const make = (probeKind: ProbeKind, probe: NonNullable<Container['livenessProbe']>): ProbeWorker => {
      const seeded =
        (probeKind === 'startup' && slot.startedOk) ||
        (probeKind === 'readiness' && reported?.ready === true);
      const worker = new ProbeWorker({
        kind: probeKind,
        probe,
        target,
        startedAtMs,
        ...(seeded ? { initial: 'success' as const } : {}),
        mayRun: () => probeKind === 'startup' || startup === undefined || startup.result === 'success',
        onChange: (result) => {
          if (probeKind === 'startup' && result === 'success') {
            slot.startedOk = true;
          }
          this.schedule(uid);
        },
      });
      workers.push(worker);
      return worker;
    };
    if (container.startupProbe && !slot.startedOk) startup = make('startup', container.startupProbe);
    if (container.livenessProbe) make('liveness', container.livenessProbe);
    if (container.readinessProbe) make('readiness', container.readinessProbe);
    runtime.probes.set(instance.id, workers);
    for (const worker of workers) worker.start();
  }

  private graceSeconds(pod: Pod): number {
    return (
      pod.metadata.deletionGracePeriodSeconds ??
      pod.spec.terminationGracePeriodSeconds ??
      DEFAULT_GRACE_SECONDS
    );
  }

  /** preStop hook, the stop signal, the rest of the grace period, then SIGKILL. */
  private async killInstance(
    runtime: PodRuntime,
    container: Container,
    id: string,
    graceSeconds: number,
  ): Promise<void> {
    for (const worker of runtime.probes.get(id) ?? []) worker.stop();
    const began = Date.now();
    const preStop = container.lifecycle?.preStop;
    let hookRan = false;
    if (preStop && graceSeconds > 0) {
      hookRan = true;
      const outcome = await runProbe(
        { ...preStop, timeoutSeconds: graceSeconds },
        {
          container,
          host: runtime.state.sandbox?.ip ?? this.options.nodeIP ?? '127.0.0.1',
          exec: (command) => this.manager.exec(id, { args: command }),
        },
      );
      if (!outcome.ok) this.log(`preStop hook of ${container.name} failed: ${outcome.message}`);
    }
    let remaining = Math.max(0, graceSeconds - (Date.now() - began) / 1000);
    if (hookRan) remaining = Math.max(remaining, MIN_GRACE_AFTER_HOOK_SECONDS);
    try {
      await this.manager.stop(id, { timeoutSeconds: remaining });
    } catch (error) {
      if (!(error instanceof ContainerError) || (error.code !== 'InvalidState' && error.code !== 'NotFound'))
        throw error;
    }
  }

  private async removeInstance(id: string): Promise<void> {
    try {
      await this.manager.remove(id, { force: true });
    } catch (error) {
      if (!(error instanceof ContainerError) || error.code !== 'NotFound') throw error;
    }
    this.network.forget(id);
    this.cgroups.forget(id);
  }

  /** Stops every container gracefully, reports the terminal status, then releases everything. */
  private async terminate(runtime: PodRuntime): Promise<void> {
    runtime.terminating = true;
    if (runtime.wake) clearTimeout(runtime.wake);
    const { state } = runtime;
    const pod = this.podOf(runtime);
    const grace = this.graceSeconds(pod);
    const kills: Array<Promise<void>> = [];
    for (const kind of ['init', 'app'] as const) {
      const list = kind === 'init' ? (pod.spec.initContainers ?? []) : pod.spec.containers;
      for (const container of list) {
        await this.observe(runtime, kind, container);
        const current = slotsOf(state, kind)[container.name]?.current;
        if (current && !current.terminated)
          kills.push(this.killInstance(runtime, container, current.id, grace));
      }
    }
    await Promise.all(kills);
    for (const kind of ['init', 'app'] as const) {
      const list = kind === 'init' ? (pod.spec.initContainers ?? []) : pod.spec.containers;
      for (const container of list) await this.observe(runtime, kind, container);
    }
    for (const key of [...runtime.waiting.keys()]) runtime.waiting.delete(key);
    this.report(runtime);

    for (const kind of ['init', 'app'] as const) {
      for (const slot of Object.values(slotsOf(state, kind))) {
        for (const instance of [slot.current, slot.previous]) {
          if (instance) {
            this.stopInstanceWatchers(runtime, instance.id);
            await this.removeInstance(instance.id);
          }
        }
      }
    }
    if (state.sandbox && !state.sandbox.hostNetwork) await this.network.tearDown(state.sandbox);
    await this.cgroups.destroyPod(state.uid);
    await tearDownVolumes(this.store.podDir(state.uid));
    await this.store.remove(state.uid);
    runtime.released = true;
    this.report(runtime);
    this.pods.delete(state.uid);
  }

  // ---- status ---------------------------------------------------------------------------------------

  private observation(
    runtime: PodRuntime,
    kind: ContainerKind,
    container: Container,
  ): ContainerObservation | undefined {
    const slot = slotsOf(runtime.state, kind)[container.name];
    const waiting = runtime.waiting.get(keyOf(kind, container.name));
    const current = slot?.current;
    if (!slot || (!current && !waiting)) return undefined;
    const workers = current ? (runtime.probes.get(current.id) ?? []) : [];
    const result = (probeKind: ProbeKind): boolean => {
      const worker = workers.find((candidate) => candidate.kind === probeKind);
      if (probeKind === 'startup' && slot.startedOk) return true;
      return worker === undefined
        ? !(probeKind === 'readiness' && container.readinessProbe) &&
            !(probeKind === 'startup' && container.startupProbe)
        : worker.result === 'success';
    };
    const base = {
      restartCount: slot.restartCount,
      image: current?.image ?? container.image ?? '',
      imageID: current?.imageID ?? '',
      ...(current ? { containerID: `flotilla://${current.id}` } : {}),
      startupSucceeded: result('startup'),
      readinessSucceeded: result('readiness'),
    };
    const previousTerminated: TerminatedState | undefined = slot.previous?.terminated;
    if (!current) return { ...base, state: { waiting: waiting ?? { reason: 'ContainerCreating' } } };
    if (current.terminated) {
      if (waiting) return { ...base, state: { waiting }, lastTerminated: current.terminated };
      return {
        ...base,
        state: { terminated: current.terminated },
        ...(previousTerminated ? { lastTerminated: previousTerminated } : {}),
      };
    }
    const startedAt = runtime.runningSince.get(current.id);
    return {
      ...base,
      state: {
        running: { startedAt: kubeTimestamp(startedAt !== undefined ? new Date(startedAt) : new Date()) },
      },
      ...(previousTerminated ? { lastTerminated: previousTerminated } : {}),
    };
  }

  private report(runtime: PodRuntime): void {
    const { state } = runtime;
    const pod = this.podOf(runtime);
    const observations = (
      kind: ContainerKind,
      list: readonly Container[],
    ): Map<string, ContainerObservation> => {
      const map = new Map<string, ContainerObservation>();
      for (const container of list) {
        const observed = this.observation(runtime, kind, container);
        if (observed) map.set(container.name, observed);
      }
      return map;
    };
    const containers = observations('app', pod.spec.containers);
    const initContainers = observations('init', pod.spec.initContainers ?? []);
    const allStopped = [...containers.values(), ...initContainers.values()].every(
      (observed) => observed.state === undefined || !('running' in observed.state),
    );
    const status = computePodStatus({
      pod,
      containers,
      initContainers,
      ...(state.sandbox?.ip !== undefined ? { podIP: state.sandbox.ip } : {}),
      ...(this.options.nodeIP !== undefined ? { hostIP: this.options.nodeIP } : {}),
      startTime: state.startTime,
      terminal: runtime.terminating && allStopped,
      ...(state.lastStatus ? { previous: state.lastStatus } : {}),
      now: kubeTimestamp(),
    });
    const report: PodStatusReport = {
      namespace: state.namespace,
      name: state.name,
      uid: state.uid,
      status,
      released: runtime.released,
    };
    if (runtime.lastReport && isDeepStrictEqual(runtime.lastReport, report)) return;
    runtime.lastReport = report;
    state.lastStatus = status;
    for (const listener of this.listeners) {
      try {
        listener(report);
      } catch (error) {
        this.log(`a status listener failed: ${errorText(error)}`);
      }
    }
  }

  // ---- lookups for logs and exec ---------------------------------------------------------------------

  private findPod(namespace: string, name: string): PodRuntime {
    for (const runtime of this.pods.values()) {
      if (runtime.state.namespace === namespace && runtime.state.name === name && !runtime.released)
        return runtime;
    }
    throw new NodePodsError('NotFound', `pods "${name}" not found on node ${this.options.nodeName}`);
  }

  private containerStatusFor(runtime: PodRuntime, requested: string | undefined, verb: 'logs' | 'exec') {
    const pod = this.podOf(runtime);
    const names = pod.spec.containers.map((container) => container.name);
    const initNames = (pod.spec.initContainers ?? []).map((container) => container.name);
    let name = requested;
    if (name === undefined) {
      if (names.length === 1 || verb === 'exec') name = names[0];
      else {
        throw new NodePodsError(
          'BadRequest',
          `a container name must be specified for pod ${runtime.state.name}, choose one of: [${names.join(' ')}]${initNames.length > 0 ? ` or one of the init containers: [${initNames.join(' ')}]` : ''}`,
        );
      }
    }
    const status = [
      ...(runtime.lastReport?.status.containerStatuses ?? []),
      ...(runtime.lastReport?.status.initContainerStatuses ?? []),
    ].find((candidate) => candidate.name === name);
    if (name === undefined || (!names.includes(name) && !initNames.includes(name))) {
      throw new NodePodsError(
        'BadRequest',
        `container ${name ?? ''} is not valid for pod ${runtime.state.name}`,
      );
    }
    if (!status) {
      throw new NodePodsError(
        'BadRequest',
        `container "${name}" in pod "${runtime.state.name}" is waiting to start - no logs yet`,
      );
    }
    return status;
  }
}

/** The pod engine of a node; see NodePods. Re-adopts what a previous engine left in options.stateDir. */
export function createNodePods(options: NodePodsOptions): Promise<NodePods> {
  return PodEngine.create(options);
}
