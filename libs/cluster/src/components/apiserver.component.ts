import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { ensurePortsFree } from './ports';
import { startDetached, waitUntilReady, type StartedProcess } from '../processes/supervised-process';

export interface ApiserverOptions {
  /** How to run the apiserver executable: the app passes `node .../apiserver/src/main.js`. */
  readonly command: string;
  readonly args: readonly string[];
  readonly etcdUrl: string;
  readonly port: number;
  readonly bindAddress: string;
  readonly tokenFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caCertFile: string;
  /** The apiserver's client certificate toward node agents (logs, exec); agents' certificates chain to caCertFile. */
  readonly agentClient?: { readonly certFile: string; readonly keyFile: string };
  /** Serve the gRPC NodeService to node agents on this port; their client certificates chain to caCertFile. */
  readonly grpcPort?: number;
  /** Redis for node usage samples (metrics.k8s.io); the apiserver keeps them in its memory without it. */
  readonly redisUrl?: string;
  readonly logDir: string;
}

/**
 * Node flags for the apiserver's process. Every request and watch event allocates a few short-lived
 * copies of an object, and with V8's default 16 MiB young generation the scavenges that follow took
 * 15-18 % of the apiserver's time in bench/scheduler; a 64 MiB semi-space brings that to 9-11 %
 * (up to ~130 MiB more memory at peak).
 */
export const APISERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

export interface RunningApiserver extends StartedProcess {
  readonly url: string;
}

export async function startApiserver(options: ApiserverOptions): Promise<RunningApiserver> {
  await ensurePortsFree(
    'apiserver',
    options.grpcPort === undefined ? [options.port] : [options.port, options.grpcPort],
    options.bindAddress,
  );
  const started = startDetached({
    name: 'apiserver',
    command: options.command,
    args: [
      ...options.args,
      '--etcd-servers',
      options.etcdUrl,
      '--bind-address',
      options.bindAddress,
      '--port',
      String(options.port),
      '--token-auth-file',
      options.tokenFile,
      '--tls-cert-file',
      options.certFile,
      '--tls-private-key-file',
      options.keyFile,
      ...(options.agentClient
        ? [
            '--agent-client-certificate',
            options.agentClient.certFile,
            '--agent-client-key',
            options.agentClient.keyFile,
            '--agent-certificate-authority',
            options.caCertFile,
          ]
        : []),
      ...(options.grpcPort === undefined
        ? []
        : ['--grpc-port', String(options.grpcPort), '--client-ca-file', options.caCertFile]),
      ...(options.redisUrl === undefined ? [] : ['--redis-url', options.redisUrl]),
    ],
    logFile: join(options.logDir, 'apiserver.log'),
  });
  const url = `https://${options.bindAddress === '0.0.0.0' ? '127.0.0.1' : options.bindAddress}:${options.port}`;
  const ca = readFileSync(options.caCertFile);
  await waitUntilReady(started, () => httpsAnswersOk(`${url}/readyz`, ca), { timeoutMs: 30_000 });
  return { ...started, url };
}

export function httpsAnswersOk(url: string, ca: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ca, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}
