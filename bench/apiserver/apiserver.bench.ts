// Pod creates through the apiserver against raw etcd puts of the same bytes, measured in the same
// run on the same etcd, at concurrency 1 and 64. Prints JSON; the target is a ratio of at least 0.5.
// Beside throughput it reports CPU milliseconds per operation of the apiserver, etcd and this client
// process: on a shared machine throughput is noisy, CPU per request far less so.
//
//   node dist/bench/apiserver/apiserver.bench.js [--operations 2000] [--concurrency 1,64] ... (--help lists all)
//
// --warmup runs that many untimed operations of each kind first (default 10000), because a
// long-running apiserver spends its life in the steady state and that is what this measures. V8 keeps
// optimizing the request path for thousands of creates: 2.5 ms of apiserver CPU per create over the
// first 500; in interleaved runs at concurrency 64 (2026-11-23) 0.34-0.37 ms about 5,000 creates in
// and 0.18-0.21 ms after about 9,000. The JSON's warmupApiserverCpuMsPerCreate lists the apiserver's
// CPU per create for each slice of the warm-up, so a run shows whether it had levelled off.
// --profile-dir runs the apiserver with --cpu-prof and leaves the .cpuprofile there.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Etcd3 } from 'etcd3';
import {
  ensureAdminToken,
  ensureClusterPki,
  freePort,
  startApiserver,
  startEtcd,
  stopProcess,
} from '@flotilla/cluster';
import { KeepAliveHttpsClient } from '@flotilla/loadgen';
import { benchOptions } from '../support/bench-options';
import { round, runLoad, type LoadResult } from '../support/stats';
import { cpuMsFromProcStat, cpuMsPerOperation } from './process-cpu.util';

const options = benchOptions({
  command: 'node dist/bench/apiserver/apiserver.bench.js',
  summary:
    'Pod creates through the apiserver against raw etcd puts of the same bytes on the same etcd, in\n' +
    'the same run (issue 2: a ratio of at least 0.5), with CPU milliseconds per operation per process.',
  options: {
    operations: { kind: 'number', default: 2000, help: 'timed operations of each kind at each concurrency' },
    warmup: { kind: 'number', default: 10_000, min: 0, help: 'untimed operations of each kind first' },
    concurrency: {
      kind: 'string',
      valueName: 'LIST',
      default: '1,64',
      help: 'comma-separated client concurrencies',
    },
    'profile-dir': {
      kind: 'string',
      valueName: 'DIR',
      help: 'run the apiserver with --cpu-prof and leave its profile in DIR',
    },
    'apiserver-main': {
      kind: 'string',
      valueName: 'PATH',
      help: "another build's dist/apps/apiserver/src/main.js, for before/after comparisons",
    },
  },
});
const operations = options.operations;
const warmup = options.warmup;
const WARMUP_SLICE = 1000;
const profileDir = options['profile-dir'];
const concurrencies = options.concurrency.split(',').map(Number);
if (!concurrencies.every((value) => Number.isInteger(value) && value > 0)) {
  process.stderr.write(
    `node dist/bench/apiserver/apiserver.bench.js: --concurrency wants whole numbers ≥ 1, not '${options.concurrency}'\n`,
  );
  process.exit(2);
}
const apiserverMain = resolve(
  options['apiserver-main'] ?? resolve(__dirname, '../../apps/apiserver/src/main.js'),
);

function ticksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

const TICKS = ticksPerSecond();

function processCpuMs(pid: number): number {
  return cpuMsFromProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), TICKS);
}

function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

interface CpuPerOperation {
  apiserver: number;
  etcd: number;
  client: number;
}

/** Runs a load and reads the CPU each process spent on it. */
async function measured(options: {
  operations: number;
  concurrency: number;
  pids: { apiserver: number; etcd: number };
  operation: (index: number) => Promise<void>;
}): Promise<LoadResult & { cpuMsPerOperation: CpuPerOperation }> {
  const before = {
    apiserver: processCpuMs(options.pids.apiserver),
    etcd: processCpuMs(options.pids.etcd),
    client: ownCpuMs(),
  };
  const result = await runLoad(options);
  const per = (after: number, start: number): number =>
    cpuMsPerOperation({ before: start, after, operations: options.operations });
  return {
    ...result,
    cpuMsPerOperation: {
      apiserver: per(processCpuMs(options.pids.apiserver), before.apiserver),
      etcd: per(processCpuMs(options.pids.etcd), before.etcd),
      client: per(ownCpuMs(), before.client),
    },
  };
}

function podManifest(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'bench', labels: { app: 'bench', tier: 'web' } },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'flotilla/busybox:latest',
          command: ['httpd', '-f', '-p', '8080', '-h', '/var/www'],
          ports: [{ containerPort: 8080, name: 'http' }],
          resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
          env: [{ name: 'MODE', value: 'benchmark' }],
        },
      ],
    },
  };
}

interface Target {
  readonly token: string;
  readonly client: KeepAliveHttpsClient;
}

// The apiserver side's client is the bench's own keep-alive HTTPS/1.1 client (@flotilla/loadgen):
// node:https spent ~0.25 ms of CPU per create, on the measured path at concurrency 1 and on the
// cores the apiserver and etcd share at 64. It still sends every request whole and reads every
// response in full, and a create counts only when answered 2xx.
async function post(target: Target, path: string, body: unknown): Promise<void> {
  const response = await target.client.request({
    method: 'POST',
    path,
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) {
    throw new Error(`POST ${path}: ${response.status} ${response.body.toString()}`);
  }
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'flotilla-bench-apiserver-'));
  const stops: number[] = [];
  try {
    const etcd = await startEtcd({
      dataDir: join(home, 'etcd'),
      logDir: home,
      clientPort: await freePort(),
      peerPort: await freePort(),
    });
    stops.push(etcd.pid);
    const pki = ensureClusterPki({ dir: join(home, 'pki'), apiserverHosts: ['127.0.0.1'] });
    const tokenFile = join(home, 'tokens.csv');
    const token = ensureAdminToken(tokenFile);
    const apiserver = await startApiserver({
      command: process.execPath,
      args: [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(profileDir)] : []), apiserverMain],
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

    const etcdClient = new Etcd3({ hosts: etcd.url });
    const target: Target = {
      token,
      client: new KeepAliveHttpsClient({
        url: apiserver.url,
        ca: readFileSync(pki.caCertFile),
        maxConnections: 64,
      }),
    };
    await post(target, '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'bench' },
    });

    const pids = { apiserver: apiserver.pid, etcd: etcd.pid };
    const etcdPut = (prefix: string) => async (i: number) => {
      await etcdClient
        .put(`/registry/core/pods/bench/${prefix}-${i}`)
        .value(JSON.stringify(podManifest(`${prefix}-${i}`)));
    };
    const apiCreate = (prefix: string) => (i: number) =>
      post(target, '/api/v1/namespaces/bench/pods', podManifest(`${prefix}-${i}`));
    const warmupApiserverCpuMsPerCreate: number[] = [];
    if (warmup > 0) {
      await runLoad({ operations: warmup, concurrency: 8, operation: etcdPut('raw-warmup') });
      for (let done = 0; done < warmup; done += WARMUP_SLICE) {
        const slice = await measured({
          operations: Math.min(WARMUP_SLICE, warmup - done),
          concurrency: 8,
          pids,
          operation: (i) => apiCreate('pod-warmup')(done + i),
        });
        warmupApiserverCpuMsPerCreate.push(slice.cpuMsPerOperation.apiserver);
      }
    }

    type Measured = Awaited<ReturnType<typeof measured>>;
    const results: Record<string, { etcd: Measured; apiserver: Measured; ratio: number }> = {};
    for (const concurrency of concurrencies) {
      const count = concurrency === 1 ? Math.ceil(operations / 4) : operations;
      const etcdResult = await measured({
        operations: count,
        concurrency,
        pids,
        operation: etcdPut(`raw-c${concurrency}`),
      });
      const apiResult = await measured({
        operations: count,
        concurrency,
        pids,
        operation: apiCreate(`pod-c${concurrency}`),
      });
      results[`concurrency${concurrency}`] = {
        etcd: etcdResult,
        apiserver: apiResult,
        ratio: round(apiResult.perSecond / etcdResult.perSecond),
      };
    }
    etcdClient.close();
    target.client.close();
    process.stdout.write(
      JSON.stringify(
        {
          benchmark: 'apiserver-pod-create',
          anchor: 'raw etcd3 put of the same JSON on the same etcd',
          target: 'ratio >= 0.5',
          warmup,
          warmupApiserverCpuMsPerCreate,
          apiserverMain,
          podBytes: JSON.stringify(podManifest('pod-c64-0000')).length,
          results,
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
  process.stderr.write(`bench/apiserver: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
