// The scheduler's throughput and latency through the real apiserver, etcd, Redis and scheduler
// process, beside raw etcd transaction throughput measured in the same run on the same etcd.
//
//   node dist/bench/scheduler/scheduler.bench.js [--nodes 1000] [--pods 10000] ... (--help lists all)
//
// The nodes are hollow (Kubernetes' kubemark): one child process (hollow-nodes.ts) runs `--nodes`
// HollowNodes of @flotilla/node-agent, each registering over the apiserver's gRPC NodeService with
// its own client certificate, heartbeating on its own stream, and reporting the pods bound to it
// Running after `--start-delay-ms` through a fake runtime.
// Phase 1 (throughput, as kube-scheduler's scheduler_perf "SchedulingBasic"): the Ready hollow
// nodes and `--pods` pending pods exist before the scheduler starts; we time from its start until
// every pod is bound, while the hollow nodes report the bound pods Running. Phase 2 (latency): with
// the scheduler running, `--latency-pods` more pods are created at a steady concurrency and each
// one's create → bound and bound → Running times are taken from a watch.
// Targets (issue 4): ≥ 1,000 pods/s bound and ≥ 50 % of the raw etcd transaction rate.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Etcd3 } from 'etcd3';
import { resourceTypeForKind, type KubeObject, type Node, type ResourceType } from '@flotilla/api';
import { createClient, createInformer, type RestClient } from '@flotilla/client';
import {
  APISERVER_NODE_FLAGS,
  ensureAdminToken,
  ensureClusterPki,
  freePort,
  startApiserver,
  startController,
  startEtcd,
  startRedis,
  stopProcess,
  writeComponentKubeconfig,
} from '@flotilla/cluster';
import { benchOptions } from '../support/bench-options';
import { percentile, round, runLoad } from '../support/stats';
import { cpuMsFromProcStat } from '../apiserver/process-cpu.util';

const options = benchOptions({
  command: 'node dist/bench/scheduler/scheduler.bench.js',
  summary:
    'Pods bound per second and scheduling latency with hollow nodes through the real apiserver, etcd\n' +
    'and scheduler, beside raw etcd transactions per second on the same etcd (issue 4).',
  options: {
    nodes: { kind: 'number', default: 1000, help: 'hollow nodes' },
    pods: { kind: 'number', default: 10_000, help: 'pending pods of the throughput phase' },
    'latency-pods': {
      kind: 'number',
      default: 1000,
      help: 'pods of the latency phase, created at a steady concurrency while the scheduler runs',
    },
    'start-delay-ms': {
      kind: 'number',
      default: 5,
      min: 0,
      help: "a hollow node's delay before it reports Running",
    },
    'heartbeat-interval-seconds': {
      kind: 'number',
      default: 10,
      // Kubelet's Lease renewal (a quarter of its 40 s Lease); 1,000 nodes at 5 s cost 200 writes/s.
      help: "each hollow node's heartbeat, kubelet's by default",
    },
    'profile-dir': {
      kind: 'string',
      valueName: 'DIR',
      help: 'the apiserver and scheduler write V8 CPU profiles to DIR/<process> when they stop',
    },
    'keep-logs': { kind: 'flag', help: "leave the run's directory (component logs) and print where it is" },
  },
});
const nodeCount = options.nodes;
const podCount = options.pods;
const latencyPodCount = options['latency-pods'];
const startDelayMs = options['start-delay-ms'];
const heartbeatIntervalSeconds = options['heartbeat-interval-seconds'];
/** A /24 for each of up to 16,384 nodes, clear of the Service range (10.96.0.0/12). */
const CLUSTER_CIDR = '100.64.0.0/10';
const HOLLOW_READY_TIMEOUT_MS = 600_000;
/** Waiting for binds or Running gives up after this long without one more pod bound or Running. */
const RUNNING_STALL_MS = 60_000;
/** How long the final audit waits for the watch to reach a fresh list's resourceVersion. */
const CATCH_UP_MS = 120_000;
const loadAtStart = readFileSync('/proc/loadavg', 'utf8').trim();
const NAMESPACE = 'bench';
const profileDir = options['profile-dir'];
const keepLogs = options['keep-logs'];

/** The raw etcd measurement: this many seeding puts, then as many timed transactions. */
const RAW_TRANSACTIONS = 3000;
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** CLOCK_MONOTONIC in microseconds: the clock V8's CPU profiles stamp their samples with. */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** CPU milliseconds each process has used so far (0 for one that is gone). */
function cpuSnapshot(pids: Readonly<Record<string, number>>): Record<string, number> {
  const snapshot: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    try {
      snapshot[name] = cpuMsFromProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), TICKS_PER_SECOND);
    } catch {
      snapshot[name] = 0;
    }
  }
  const own = process.cpuUsage();
  snapshot['bench'] = (own.user + own.system) / 1000;
  return snapshot;
}

function coreType(kind: string): ResourceType {
  const type = resourceTypeForKind('v1', kind);
  if (!type) throw new Error(`no resource type v1/${kind}`);
  return type;
}
const podType = coreType('Pod');
const nodeType = coreType('Node');
const namespaceType = coreType('Namespace');

function pod(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { app: 'bench' } },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'flotilla/busybox:latest',
          resources: { requests: { cpu: '10m', memory: '16Mi' } },
        },
      ],
    },
  } as KubeObject;
}

/** Raw etcd: the conditional write a bind is (compare the key's mod revision, then put), at c=64. */
async function etcdTransactions(etcd: Etcd3, operations: number): Promise<number> {
  const value = JSON.stringify(pod('raw'));
  const revisions: string[] = [];
  await runLoad({
    operations,
    concurrency: 64,
    operation: async (i) => {
      const written = await etcd.put(`/bench-raw/txn-${i}`).value(value).exec();
      revisions[i] = written.header.revision;
    },
  });
  const result = await runLoad({
    operations,
    concurrency: 64,
    operation: async (i) => {
      const key = `/bench-raw/txn-${i}`;
      await etcd
        .if(key, 'Mod', '==', revisions[i] ?? '0')
        .then(etcd.put(key).value(value))
        .commit();
    },
  });
  return round(result.perSecond);
}

async function createAll(
  client: RestClient,
  objects: readonly KubeObject[],
  concurrency: number,
): Promise<void> {
  await runLoad({
    operations: objects.length,
    concurrency,
    operation: async (i) => {
      const object = objects[i];
      if (!object) return;
      await client.create(podType, object, { namespace: NAMESPACE });
    },
  });
}

interface HollowProgress {
  event: 'certificates' | 'registered' | 'connected' | 'held';
  count?: number;
  failed?: number;
  seconds?: number;
  /** held: pod name → phase, for every pod a hollow engine holds. */
  pods?: Record<string, string>;
}

/** The hollow nodes' child process and the progress lines it prints. */
function startHollowNodes(options: {
  home: string;
  grpcPort: number;
  caCertFile: string;
  caKeyFile: string;
}): {
  child: ChildProcess;
  progress: Map<string, HollowProgress>;
  connected: Promise<void>;
  held: () => Promise<Record<string, string> | undefined>;
} {
  const log = openSync(join(options.home, 'hollow-nodes.log'), 'a');
  const child = spawn(
    process.execPath,
    [
      resolve(__dirname, 'hollow-nodes.js'),
      '--apiserver',
      `127.0.0.1:${options.grpcPort}`,
      '--ca-file',
      options.caCertFile,
      '--ca-key-file',
      options.caKeyFile,
      '--dir',
      join(options.home, 'hollow-pki'),
      '--nodes',
      String(nodeCount),
      '--start-delay-ms',
      String(startDelayMs),
      '--heartbeat-interval-seconds',
      String(heartbeatIntervalSeconds),
    ],
    { stdio: ['ignore', 'pipe', log] },
  );
  closeSync(log);
  const progress = new Map<string, HollowProgress>();
  let onHeld: ((pods: Record<string, string>) => void) | undefined;
  const connected = new Promise<void>((done, fail) => {
    if (!child.stdout) throw new Error('the hollow nodes process has no stdout');
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const event = JSON.parse(line) as HollowProgress;
        progress.set(event.event, event);
        if (event.event === 'connected') done();
        if (event.event === 'held') onHeld?.(event.pods ?? {});
      } catch {
        // Not a progress line: the log has everything else.
      }
    });
    child.once('exit', (code) =>
      fail(
        new Error(
          `the hollow nodes process exited (${code ?? 'signal'}) before all nodes connected: see ${join(options.home, 'hollow-nodes.log')}`,
        ),
      ),
    );
  });
  const held = (): Promise<Record<string, string> | undefined> =>
    new Promise((done) => {
      const timer = setTimeout(() => done(undefined), 10_000);
      onHeld = (pods) => {
        clearTimeout(timer);
        onHeld = undefined;
        done(pods);
      };
      child.kill('SIGUSR2');
    });
  return { child, progress, connected, held };
}

type WatchedNode = KubeObject & { status?: Node['status'] };

function isReady(node: WatchedNode): boolean {
  return (node.status?.conditions ?? []).some(
    (condition) => condition.type === 'Ready' && condition.status === 'True',
  );
}

async function readyNodeCount(client: RestClient): Promise<number> {
  const list = await client.list<WatchedNode>(nodeType);
  return list.items.filter(isReady).length;
}

function latencySummary(values: number[]): { p50Ms: number; p99Ms: number } {
  values.sort((a, b) => a - b);
  return { p50Ms: round(percentile(values, 0.5)), p99Ms: round(percentile(values, 0.99)) };
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'flotilla-bench-scheduler-'));
  const stops: number[] = [];
  try {
    const etcd = await startEtcd({
      dataDir: join(home, 'etcd'),
      logDir: home,
      clientPort: await freePort(),
      peerPort: await freePort(),
    });
    stops.push(etcd.pid);
    const redis = await startRedis({ dataDir: join(home, 'redis'), logDir: home, port: await freePort() });
    stops.push(redis.pid);
    const pki = ensureClusterPki({ dir: join(home, 'pki'), apiserverHosts: ['127.0.0.1'] });
    const tokenFile = join(home, 'tokens.csv');
    const token = ensureAdminToken(tokenFile);
    const grpcPort = await freePort();
    const apiserver = await startApiserver({
      command: process.execPath,
      args: [
        ...APISERVER_NODE_FLAGS,
        ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir, 'apiserver')}`] : []),
        resolve(__dirname, '../../apps/apiserver/src/main.js'),
        '--cluster-cidr',
        CLUSTER_CIDR,
      ],
      etcdUrl: etcd.url,
      port: await freePort(),
      grpcPort,
      bindAddress: '127.0.0.1',
      tokenFile,
      certFile: pki.apiserver.certFile,
      keyFile: pki.apiserver.keyFile,
      caCertFile: pki.caCertFile,
      logDir: home,
    });
    stops.push(apiserver.pid);
    const kubeconfigFile = join(home, 'kubeconfig');
    writeComponentKubeconfig({
      file: kubeconfigFile,
      server: apiserver.url,
      caCertFile: pki.caCertFile,
      token,
    });
    const client = createClient({ kubeconfig: kubeconfigFile });

    const etcdClient = new Etcd3({ hosts: etcd.url });
    // etcd's and this client's CPU per raw transaction: what one conditional write costs etcd when
    // nothing else runs, against its CPU per pod in phase 1 (two writes per pod: bind and status).
    const rawCpuBefore = cpuSnapshot({ etcd: etcd.pid });
    const rawTxnPerSecond = await etcdTransactions(etcdClient, RAW_TRANSACTIONS);
    const rawCpuAfter = cpuSnapshot({ etcd: etcd.pid });
    const rawCpuMsPerTxn = {
      etcd: round(((rawCpuAfter['etcd'] ?? 0) - (rawCpuBefore['etcd'] ?? 0)) / (2 * RAW_TRANSACTIONS), 3),
      client: round(((rawCpuAfter['bench'] ?? 0) - (rawCpuBefore['bench'] ?? 0)) / (2 * RAW_TRANSACTIONS), 3),
    };
    etcdClient.close();

    await client.create(namespaceType, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NAMESPACE },
    });
    const hollowStarted = performance.now();
    const hollow = startHollowNodes({
      home,
      grpcPort,
      caCertFile: pki.caCertFile,
      caKeyFile: pki.caKeyFile,
    });
    if (hollow.child.pid !== undefined) stops.push(hollow.child.pid);
    await hollow.connected;
    // Ready is the apiserver's view: a heartbeat on the stream turned into the Node's conditions.
    let hollowNodesReady = 0;
    const readyDeadline = performance.now() + HOLLOW_READY_TIMEOUT_MS;
    while (
      (hollowNodesReady = await readyNodeCount(client)) < nodeCount &&
      performance.now() < readyDeadline
    ) {
      await new Promise((done) => setTimeout(done, 500));
    }
    const hollowReadySeconds = (performance.now() - hollowStarted) / 1000;
    process.stderr.write(`bench/scheduler: ${hollowNodesReady}/${nodeCount} hollow nodes registered Ready\n`);
    if (hollowNodesReady === 0) {
      throw new Error(`no hollow node became Ready: see ${join(home, 'hollow-nodes.log')} and apiserver.log`);
    }
    await createAll(
      client,
      Array.from({ length: podCount }, (_, i) => pod(`pending-${i}`)),
      64,
    );

    // Every bind and every Running is observed through one watch, as a client of the API would see it.
    type WatchedPod = KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string } };
    const boundAt = new Map<string, number>();
    const runningAt = new Map<string, number>();
    const createdAt = new Map<string, number>();
    let onChange: (() => void) | undefined;
    const informer = createInformer<WatchedPod>({
      client,
      resource: podType,
      namespace: NAMESPACE,
    });
    // Which process saturates during phase 1: CPU of each from the first bind to the last.
    const cpuPids: Record<string, number> = { etcd: etcd.pid, apiserver: apiserver.pid };
    if (hollow.child.pid !== undefined) cpuPids['hollowNodes'] = hollow.child.pid;
    let cpuAtFirstBind: { at: number; monotonicUs: number; cpu: Record<string, number> } | undefined;
    const observe = (object: WatchedPod): void => {
      const name = object.metadata?.name ?? '';
      const now = performance.now();
      let changed = false;
      if (object.spec?.nodeName && !boundAt.has(name)) {
        cpuAtFirstBind ??= { at: now, monotonicUs: monotonicUs(), cpu: cpuSnapshot(cpuPids) };
        boundAt.set(name, now);
        changed = true;
      }
      if (object.status?.phase === 'Running' && !runningAt.has(name)) {
        runningAt.set(name, now);
        changed = true;
      }
      if (changed) onChange?.();
    };
    informer.addEventHandler({ onAdd: observe, onUpdate: (_previous, current) => observe(current) });
    informer.start();
    await informer.waitForSync();
    /** Resolves true once every name is in `seen`, or false after `stallMs` without a new one. */
    const allIn = (seen: Map<string, number>, names: readonly string[], stallMs?: number): Promise<boolean> =>
      new Promise((done) => {
        let timer: NodeJS.Timeout | undefined;
        const check = (): void => {
          if (names.every((name) => seen.has(name))) {
            onChange = undefined;
            clearTimeout(timer);
            done(true);
            return;
          }
          if (stallMs === undefined) return;
          clearTimeout(timer);
          timer = setTimeout(() => {
            onChange = undefined;
            done(false);
          }, stallMs);
        };
        onChange = check;
        check();
      });
    /**
     * After a stall: what the API holds for `names` (a fresh list, not the watch) beside what the
     * watch delivered, and which pods the hollow engines hold. Bound or Running in the API but never
     * on the watch means the watch lost the event; bound but held by no engine means the node's
     * stream never delivered the pod.
     */
    const stuck = async (names: readonly string[]): Promise<Record<string, number>> => {
      const missing = names.filter((name) => !runningAt.has(name));
      if (missing.length === 0) return { notRunning: 0 };
      const listed = await client.listAll<WatchedPod>(podType, { namespace: NAMESPACE });
      const byName = new Map(listed.items.map((item) => [item.metadata?.name ?? '', item]));
      const held = await hollow.held();
      const count = (test: (name: string) => boolean): number => names.filter(test).length;
      return {
        notRunning: missing.length,
        boundInApiNotOnWatch: count((name) => !!byName.get(name)?.spec?.nodeName && !boundAt.has(name)),
        runningInApiNotOnWatch: count(
          (name) => byName.get(name)?.status?.phase === 'Running' && !runningAt.has(name),
        ),
        notRunningInApi: count((name) => byName.get(name)?.status?.phase !== 'Running'),
        ...(held
          ? {
              notRunningInApiHeldByHollowNodes: count(
                (name) => byName.get(name)?.status?.phase !== 'Running' && held[name] !== undefined,
              ),
            }
          : {}),
      };
    };

    const throughputStart = performance.now();
    const scheduler = await startController({
      name: 'scheduler',
      command: process.execPath,
      args: [
        ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir, 'scheduler')}`] : []),
        resolve(__dirname, '../../apps/scheduler/src/main.js'),
      ],
      kubeconfigFile,
      redisUrl: redis.url,
      logDir: home,
      timeoutMs: 120_000,
    });
    stops.push(scheduler.pid);
    const pendingNames = Array.from({ length: podCount }, (_, i) => `pending-${i}`);
    await allIn(boundAt, pendingNames, RUNNING_STALL_MS);
    const cpuAtLastBind = cpuSnapshot({ ...cpuPids, scheduler: scheduler.pid });
    const lastBindMonotonicUs = monotonicUs();
    // The scheduling window: first bind to last, without the process start and informer sync; only
    // binds the watch delivered count (a stall report below says how many it did not).
    const bindTimes = pendingNames.flatMap((name) => {
      const at = boundAt.get(name);
      return at === undefined ? [] : [at];
    });
    const lastBind = bindTimes.length > 0 ? Math.max(...bindTimes) : performance.now();
    const startupSeconds = (lastBind - throughputStart) / 1000;
    const throughputSeconds = Math.max(1e-3, (lastBind - Math.min(lastBind, ...bindTimes)) / 1000);
    const spread = new Set<string>();
    for (const object of informer.list()) if (object.spec?.nodeName) spread.add(object.spec.nodeName);
    // Phase 2 starts on a settled cluster: every burst pod reported Running by its hollow node.
    const burstAllRunning = await allIn(runningAt, pendingNames, RUNNING_STALL_MS);
    const burstRunningSeconds = (performance.now() - throughputStart) / 1000;
    const burstStuck = await stuck(pendingNames);
    const burstToRunning = pendingNames.flatMap((name) => {
      const bound = boundAt.get(name);
      const running = runningAt.get(name);
      return bound !== undefined && running !== undefined ? [Math.max(0, running - bound)] : [];
    });

    await runLoad({
      operations: latencyPodCount,
      concurrency: 4,
      operation: async (i) => {
        const name = `latency-${i}`;
        createdAt.set(name, performance.now());
        await client.create(podType, pod(name), { namespace: NAMESPACE });
      },
    });
    const latencyNames = Array.from({ length: latencyPodCount }, (_, i) => `latency-${i}`);
    await allIn(boundAt, latencyNames, RUNNING_STALL_MS);
    const latencyAllRunning = await allIn(runningAt, latencyNames, RUNNING_STALL_MS);
    const latencyStuck = await stuck(latencyNames);
    const latencies = latencyNames.flatMap((name) => {
      const bound = boundAt.get(name);
      const created = createdAt.get(name);
      return bound !== undefined && created !== undefined ? [Math.max(0, bound - created)] : [];
    });
    const steadyToRunning = latencyNames.flatMap((name) => {
      const bound = boundAt.get(name);
      const running = runningAt.get(name);
      return bound !== undefined && running !== undefined ? [Math.max(0, running - bound)] : [];
    });
    // Lost or late? Once the watch has caught up with a fresh list (its resourceVersion, from events
    // or bookmarks, at or past the newest pod change listed), a pod bound in the list but never bound
    // on the watch was lost; before that it may only be late.
    const final = await client.listAll<WatchedPod>(podType, { namespace: NAMESPACE });
    const listRevision = Math.max(
      0,
      ...final.items.map((item) => Number(item.metadata?.resourceVersion ?? 0)),
    );
    const caughtUp = await new Promise<boolean>((done) => {
      const deadline = performance.now() + CATCH_UP_MS;
      const poll = (): void => {
        if (Number(informer.lastSyncResourceVersion() ?? 0) >= listRevision) done(true);
        else if (performance.now() > deadline) done(false);
        else setTimeout(poll, 200);
      };
      poll();
    });
    const watchAudit = {
      caughtUp,
      listRevision,
      watchRevision: Number(informer.lastSyncResourceVersion() ?? 0),
      boundInList: final.items.filter((item) => item.spec?.nodeName).length,
      boundInListNeverOnWatch: final.items.filter(
        (item) => item.spec?.nodeName && !boundAt.has(item.metadata?.name ?? ''),
      ).length,
    };
    informer.stop();
    client.close();

    const podsPerSecond = round(Math.max(0, bindTimes.length - 1) / throughputSeconds);
    // Per process: CPU seconds over the bind window and the share of one core they are; the
    // scheduler's from its start (informer sync included), as it did not exist at the first bind.
    const phase1Cpu: Record<string, { cpuSeconds: number; cores: number; cpuMsPerPod: number }> = {};
    for (const [name, after] of Object.entries(cpuAtLastBind)) {
      const before = name === 'scheduler' ? 0 : (cpuAtFirstBind?.cpu[name] ?? 0);
      const windowSeconds = name === 'scheduler' ? startupSeconds : Math.max(1e-3, throughputSeconds);
      phase1Cpu[name] = {
        cpuSeconds: round((after - before) / 1000),
        cores: round((after - before) / 1000 / windowSeconds),
        cpuMsPerPod: round((after - before) / Math.max(1, bindTimes.length)),
      };
    }
    const seconds = (event: string): number => round(hollow.progress.get(event)?.seconds ?? 0);
    process.stdout.write(
      JSON.stringify(
        {
          benchmark: 'scheduler',
          anchor:
            'raw etcd conditional transactions (compare mod revision, put) at concurrency 64, same etcd',
          target: 'podsPerSecond >= 1000 and ratio >= 0.5',
          nodes: nodeCount,
          pods: podCount,
          hollowNodesReady,
          hollowNodes: {
            registered: hollow.progress.get('registered')?.count ?? 0,
            connected: hollow.progress.get('connected')?.count ?? 0,
            certificatesSeconds: seconds('certificates'),
            registerSeconds: seconds('registered'),
            connectSeconds: seconds('connected'),
            allReadySeconds: round(hollowReadySeconds),
            startDelayMs,
          },
          throughput: {
            secondsIncludingStartup: round(startupSeconds),
            seconds: round(throughputSeconds),
            podsPerSecond,
            bindsSeenOnWatch: bindTimes.length,
            nodesUsed: spread.size,
            cpu: phase1Cpu,
            // The bind window on V8's profile clock (CLOCK_MONOTONIC µs), to cut --profile-dir profiles.
            ...(profileDir
              ? { profileWindowUs: [cpuAtFirstBind?.monotonicUs ?? 0, lastBindMonotonicUs] }
              : {}),
          },
          latency: {
            pods: latencyPodCount,
            bindsSeenOnWatch: latencies.length,
            ...latencySummary(latencies),
          },
          // Bind (seen on the watch) → Running (the hollow agent's status, written by the apiserver).
          bindToRunning: {
            burst: {
              pods: burstToRunning.length,
              allRunning: burstAllRunning,
              ...burstStuck,
              secondsUntilAllRunning: round(burstRunningSeconds),
              ...latencySummary(burstToRunning),
            },
            steady: {
              pods: steadyToRunning.length,
              allRunning: latencyAllRunning,
              ...latencyStuck,
              ...latencySummary(steadyToRunning),
            },
          },
          watchAudit,
          loadAverage: { atStart: loadAtStart, atEnd: readFileSync('/proc/loadavg', 'utf8').trim() },
          rawEtcdTxnPerSecond: rawTxnPerSecond,
          // Over the puts that seed the keys and the timed transactions together.
          rawEtcdCpuMsPerWrite: rawCpuMsPerTxn,
          ratio: round(podsPerSecond / rawTxnPerSecond),
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    for (const pid of stops.reverse()) await stopProcess(pid);
    if (keepLogs) process.stderr.write(`bench/scheduler: logs kept in ${home}\n`);
    else rmSync(home, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench/scheduler: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
