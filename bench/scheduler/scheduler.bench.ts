// The scheduler's throughput and latency through the real apiserver, etcd, Redis and scheduler
// process, beside raw etcd transaction throughput measured in the same run on the same etcd.
//
//   node dist/bench/scheduler/scheduler.bench.js [--nodes 1000] [--pods 10000] [--latency-pods 1000]
//     [--profile-dir DIR]
//
// Phase 1 (throughput, as kube-scheduler's scheduler_perf "SchedulingBasic"): `--nodes` Ready nodes
// and `--pods` pending pods exist before the scheduler starts; we time from its start until every
// pod is bound. Phase 2 (latency): with the scheduler running, `--latency-pods` more pods are
// created at a steady concurrency and each one's create → bound time is taken from a watch.
// Targets (issue 4): ≥ 1,000 pods/s bound and ≥ 50 % of the raw etcd transaction rate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Etcd3 } from 'etcd3';
import { resourceTypeForKind, type KubeObject, type ResourceType } from '@flotilla/api';
import { createClient, createInformer, type RestClient } from '@flotilla/client';
import {
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
import { percentile, round, runLoad } from '../support/stats';

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const nodeCount = flag('nodes', 1000);
const podCount = flag('pods', 10_000);
const latencyPodCount = flag('latency-pods', 1000);
const NAMESPACE = 'bench';
/** --profile-dir DIR: the scheduler process writes a V8 CPU profile there when it stops. */
const profileDirIndex = process.argv.indexOf('--profile-dir');
const profileDir = profileDirIndex >= 0 ? process.argv[profileDirIndex + 1] : undefined;

function coreType(kind: string): ResourceType {
  const type = resourceTypeForKind('v1', kind);
  if (!type) throw new Error(`no resource type v1/${kind}`);
  return type;
}
const podType = coreType('Pod');
const nodeType = coreType('Node');
const namespaceType = coreType('Namespace');

/** Hollow nodes: Ready, with kubemark's default capacity, so every pod fits somewhere. */
function hollowNode(index: number): KubeObject {
  const name = `hollow-${String(index).padStart(4, '0')}`;
  const capacity = { cpu: '4', memory: '16Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
    spec: {},
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'hollow node' }],
      addresses: [{ type: 'InternalIP', address: `10.200.${Math.floor(index / 250)}.${(index % 250) + 1}` }],
    },
  } as KubeObject;
}

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
      const type = object.kind === 'Node' ? nodeType : podType;
      await client.create(type, object, object.kind === 'Pod' ? { namespace: NAMESPACE } : {});
    },
  });
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
    const apiserver = await startApiserver({
      command: process.execPath,
      args: [resolve(__dirname, '../../apps/apiserver/src/main.js')],
      etcdUrl: etcd.url,
      port: await freePort(),
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
    const rawTxnPerSecond = await etcdTransactions(etcdClient, 3000);
    etcdClient.close();

    await client.create(namespaceType, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NAMESPACE },
    });
    await createAll(
      client,
      Array.from({ length: nodeCount }, (_, i) => hollowNode(i)),
      32,
    );
    // Node status is a subresource: the create above keeps spec only, so write status as an agent would.
    await runLoad({
      operations: nodeCount,
      concurrency: 32,
      operation: async (i) => {
        await client.updateStatus(nodeType, hollowNode(i));
      },
    });
    await createAll(
      client,
      Array.from({ length: podCount }, (_, i) => pod(`pending-${i}`)),
      64,
    );

    // Every bind is observed through one watch, as a client of the API would see it.
    const boundAt = new Map<string, number>();
    const createdAt = new Map<string, number>();
    let onBound: (() => void) | undefined;
    const informer = createInformer<KubeObject & { spec?: { nodeName?: string } }>({
      client,
      resource: podType,
      namespace: NAMESPACE,
    });
    const observe = (object: KubeObject & { spec?: { nodeName?: string } }): void => {
      const name = object.metadata?.name ?? '';
      if (object.spec?.nodeName && !boundAt.has(name)) {
        boundAt.set(name, performance.now());
        onBound?.();
      }
    };
    informer.addEventHandler({ onAdd: observe, onUpdate: (_previous, current) => observe(current) });
    informer.start();
    await informer.waitForSync();
    const allBound = (names: readonly string[]): Promise<void> =>
      new Promise((done) => {
        const check = (): void => {
          if (names.every((name) => boundAt.has(name))) {
            onBound = undefined;
            done();
          }
        };
        onBound = check;
        check();
      });

    const throughputStart = performance.now();
    const scheduler = await startController({
      name: 'scheduler',
      command: process.execPath,
      args: [
        ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : []),
        resolve(__dirname, '../../apps/scheduler/src/main.js'),
      ],
      kubeconfigFile,
      redisUrl: redis.url,
      logDir: home,
      timeoutMs: 120_000,
    });
    stops.push(scheduler.pid);
    const pendingNames = Array.from({ length: podCount }, (_, i) => `pending-${i}`);
    await allBound(pendingNames);
    const startupSeconds = (performance.now() - throughputStart) / 1000;
    // The scheduling window: first bind to last, without the process start and informer sync.
    const bindTimes = pendingNames.map((name) => boundAt.get(name) ?? 0);
    const throughputSeconds = Math.max(1e-3, (Math.max(...bindTimes) - Math.min(...bindTimes)) / 1000);
    const spread = new Set<string>();
    for (const object of informer.list()) if (object.spec?.nodeName) spread.add(object.spec.nodeName);

    await runLoad({
      operations: latencyPodCount,
      concurrency: 4,
      operation: async (i) => {
        const name = `latency-${i}`;
        await client.create(podType, pod(name), { namespace: NAMESPACE });
        createdAt.set(name, performance.now());
      },
    });
    const latencyNames = Array.from({ length: latencyPodCount }, (_, i) => `latency-${i}`);
    await allBound(latencyNames);
    const latencies = latencyNames
      .map((name) => Math.max(0, (boundAt.get(name) ?? 0) - (createdAt.get(name) ?? 0)))
      .sort((a, b) => a - b);
    informer.stop();
    client.close();

    const podsPerSecond = round((podCount - 1) / throughputSeconds);
    process.stdout.write(
      JSON.stringify(
        {
          benchmark: 'scheduler',
          anchor:
            'raw etcd conditional transactions (compare mod revision, put) at concurrency 64, same etcd',
          target: 'podsPerSecond >= 1000 and ratio >= 0.5',
          nodes: nodeCount,
          pods: podCount,
          throughput: {
            secondsIncludingStartup: round(startupSeconds),
            seconds: round(throughputSeconds),
            podsPerSecond,
            nodesUsed: spread.size,
          },
          latency: {
            pods: latencyPodCount,
            p50Ms: round(percentile(latencies, 0.5)),
            p99Ms: round(percentile(latencies, 0.99)),
          },
          rawEtcdTxnPerSecond: rawTxnPerSecond,
          ratio: round(podsPerSecond / rawTxnPerSecond),
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    for (const pid of stops.reverse()) await stopProcess(pid);
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench/scheduler: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
