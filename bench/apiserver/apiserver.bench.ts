// Pod creates through the apiserver against raw etcd puts of the same bytes, measured in the same
// run on the same etcd, at concurrency 1 and 64. Prints JSON; the target is a ratio of at least 0.5.
//
//   node dist/bench/apiserver/apiserver.bench.js [--operations 2000]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
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
import { round, runLoad, type LoadResult } from '../support/stats';

const operations = Number(process.argv[process.argv.indexOf('--operations') + 1]) || 2000;

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
  readonly url: string;
  readonly token: string;
  readonly ca: Buffer;
  readonly agent: Agent;
}

function post(target: Target, path: string, body: unknown): Promise<void> {
  const payload = JSON.stringify(body);
  return new Promise((resolvePost, reject) => {
    const req = request(
      `${target.url}${path}`,
      {
        method: 'POST',
        agent: target.agent,
        ca: target.ca,
        headers: {
          authorization: `Bearer ${target.token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300) {
            reject(new Error(`POST ${path}: ${res.statusCode} ${Buffer.concat(chunks).toString()}`));
          } else resolvePost();
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
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

    const etcdClient = new Etcd3({ hosts: etcd.url });
    const target: Target = {
      url: apiserver.url,
      token,
      ca: readFileSync(pki.caCertFile),
      agent: new Agent({ keepAlive: true, maxSockets: 64 }),
    };
    await post(target, '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'bench' },
    });

    const results: Record<string, { etcd: LoadResult; apiserver: LoadResult; ratio: number }> = {};
    for (const concurrency of [1, 64]) {
      const count = concurrency === 1 ? Math.ceil(operations / 4) : operations;
      const etcdResult = await runLoad({
        operations: count,
        concurrency,
        operation: async (i) => {
          const key = `/registry/core/pods/bench/raw-c${concurrency}-${i}`;
          await etcdClient.put(key).value(JSON.stringify(podManifest(`raw-c${concurrency}-${i}`)));
        },
      });
      const apiResult = await runLoad({
        operations: count,
        concurrency,
        operation: (i) =>
          post(target, '/api/v1/namespaces/bench/pods', podManifest(`pod-c${concurrency}-${i}`)),
      });
      results[`concurrency${concurrency}`] = {
        etcd: etcdResult,
        apiserver: apiResult,
        ratio: round(apiResult.perSecond / etcdResult.perSecond),
      };
    }
    etcdClient.close();
    target.agent.destroy();
    process.stdout.write(
      JSON.stringify(
        {
          benchmark: 'apiserver-pod-create',
          anchor: 'raw etcd3 put of the same JSON on the same etcd',
          target: 'ratio >= 0.5',
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
