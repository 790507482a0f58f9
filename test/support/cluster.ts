// The one helper that starts a real control plane for integration and e2e tests: its own etcd
// (so compaction and cluster-scoped objects never leak between test files), the cluster PKI, an
// admin token, the apiserver over HTTPS, and a kubeconfig that both kubectl and flotilla read.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from '@flotilla/apiserver';
import {
  ensureAdminToken,
  ensureClusterPki,
  ensureNodeCertificate,
  freePort,
  startEtcd,
  stopProcess,
  type CertificatePaths,
} from '@flotilla/cluster';
import { stringify } from 'yaml';
import { claimTestDir } from './leftovers';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: <T = Record<string, unknown>>() => T;
}

export interface RequestOptions {
  /** Sent as-is when a string or Buffer; JSON-encoded otherwise. */
  body?: unknown;
  /** Default application/json; null sends no Content-Type. */
  contentType?: string | null;
  /** Undefined: the admin token; null: no Authorization header. */
  token?: string | null;
  accept?: string;
  /** The body in two chunks without a Content-Length (Transfer-Encoding: chunked). */
  chunked?: boolean;
  /** An agent of the caller's (e.g. keep-alive on one socket); it must trust the cluster CA. */
  agent?: HttpsAgent;
}

export interface TestControlPlaneOptions {
  /** Where the apiserver listens (default 127.0.0.1); node hosts reach it on their LAN's host address. */
  readonly bindAddress?: string;
  /** Serve the gRPC NodeService to node agents on a free port of bindAddress. */
  readonly nodeService?: boolean;
  /** How often agents heartbeat (seconds; the NodeService's default otherwise). */
  readonly heartbeatIntervalSeconds?: number;
  /** How long usage samples outlive a node's last report (the apiserver's 15 s default otherwise). */
  readonly metricsTtlMs?: number;
}

export interface TestControlPlane {
  readonly url: string;
  readonly etcdUrl: string;
  readonly caFile: string;
  /** The CA's key, to sign node certificates. */
  readonly caKeyFile: string;
  readonly pkiDir: string;
  /** The NodeService's port, when asked for. */
  readonly grpcPort?: number;
  readonly token: string;
  readonly kubeconfigPath: string;
  readonly dir: string;
  readonly apiserver: RunningApiServer;
  request(method: string, path: string, options?: RequestOptions): Promise<HttpResult>;
  /** A node's client certificate (system:node:NAME) signed by this plane's CA (for 127.0.0.1 by default). */
  nodeCertificate(nodeName: string, addresses?: readonly string[]): CertificatePaths;
  /** Stops the apiserver and starts a new one on the same ports and etcd (agents reconnect to it). */
  restartApiServer(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestControlPlane(
  name = 'test',
  options: TestControlPlaneOptions = {},
): Promise<TestControlPlane> {
  const bindAddress = options.bindAddress ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), `flotilla-${name}-`));
  claimTestDir(dir);
  const etcd = await startEtcd({
    dataDir: join(dir, 'etcd'),
    logDir: dir,
    clientPort: await freePort(),
    peerPort: await freePort(),
  });
  const pki = ensureClusterPki({
    dir: join(dir, 'pki'),
    apiserverHosts: ['127.0.0.1', 'localhost', ...(bindAddress === '127.0.0.1' ? [] : [bindAddress])],
  });
  const tokenFile = join(dir, 'tokens.csv');
  const token = ensureAdminToken(tokenFile);
  // Usage samples go to the suite's Redis, as `flotilla up` does, under keys only this control plane uses.
  const redisUrl = process.env['FLOTILLA_TEST_REDIS'];
  const metricsKeyPrefix = `flotilla-test:${name}-${randomBytes(4).toString('hex')}:metrics:`;
  let apiserver: RunningApiServer;
  let apiserverOptions: ApiServerOptions;
  try {
    apiserverOptions = {
      etcdServers: [etcd.url],
      bindAddress,
      port: 0,
      tokenAuthFile: tokenFile,
      tlsCertFile: pki.apiserver.certFile,
      tlsPrivateKeyFile: pki.apiserver.keyFile,
      agentClientCertFile: pki.apiserverAgentClient.certFile,
      agentClientKeyFile: pki.apiserverAgentClient.keyFile,
      agentCaFile: pki.caCertFile,
      logLevel: process.env['FLOTILLA_TEST_LOG'] ?? 'warn',
      metrics: {
        ...(redisUrl ? { redisUrl, keyPrefix: metricsKeyPrefix } : {}),
        ...(options.metricsTtlMs !== undefined ? { ttlMs: options.metricsTtlMs } : {}),
      },
      ...(options.nodeService
        ? {
            nodeService: {
              port: 0,
              clientCaFile: pki.caCertFile,
              ...(options.heartbeatIntervalSeconds !== undefined
                ? { heartbeatIntervalSeconds: options.heartbeatIntervalSeconds }
                : {}),
            },
          }
        : {}),
    };
    apiserver = await startApiServer(apiserverOptions);
  } catch (error) {
    await stopProcess(etcd.pid);
    throw error;
  }
  const ca = readFileSync(pki.caCertFile);
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfigPath,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name, cluster: { server: apiserver.url, 'certificate-authority-data': ca.toString('base64') } },
      ],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name, context: { cluster: name, user: 'admin', namespace: 'default' } }],
      'current-context': name,
    }),
    { mode: 0o600 },
  );
  const request = (method: string, path: string, options: RequestOptions = {}): Promise<HttpResult> =>
    new Promise((resolve, reject) => {
      const body =
        options.body === undefined
          ? undefined
          : typeof options.body === 'string' || Buffer.isBuffer(options.body)
            ? options.body
            : JSON.stringify(options.body);
      const headers: Record<string, string> = {};
      const presented = options.token === undefined ? token : options.token;
      if (presented !== null) headers['Authorization'] = `Bearer ${presented}`;
      if (options.accept !== undefined) headers['Accept'] = options.accept;
      if (body !== undefined) {
        if (options.contentType !== null) headers['Content-Type'] = options.contentType ?? 'application/json';
        // Node sends DELETE bodies without framing unless the length is given.
        if (!options.chunked) headers['Content-Length'] = String(Buffer.byteLength(body));
      }
      const connection = options.agent ? { agent: options.agent } : { ca };
      const req = httpsRequest(`${apiserver.url}${path}`, { method, headers, ...connection }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body !== undefined && options.chunked) {
        const bytes = typeof body === 'string' ? Buffer.from(body) : body;
        const middle = Math.floor(bytes.length / 2);
        req.write(bytes.subarray(0, middle));
        req.write(bytes.subarray(middle));
      } else if (body !== undefined) {
        req.write(body);
      }
      req.end();
    });
  return {
    url: apiserver.url,
    etcdUrl: etcd.url,
    caFile: pki.caCertFile,
    caKeyFile: pki.caKeyFile,
    pkiDir: join(dir, 'pki'),
    ...(apiserver.grpcPort !== undefined ? { grpcPort: apiserver.grpcPort } : {}),
    token,
    kubeconfigPath,
    dir,
    get apiserver() {
      return apiserver;
    },
    request,
    nodeCertificate: (nodeName, addresses = ['127.0.0.1']) =>
      ensureNodeCertificate({
        pkiDir: join(dir, 'pki'),
        nodeName,
        addresses,
        caCertFile: pki.caCertFile,
        caKeyFile: pki.caKeyFile,
      }),
    async restartApiServer() {
      const { port, grpcPort } = apiserver;
      await apiserver.close();
      const nodeService = apiserverOptions.nodeService;
      apiserver = await startApiServer({
        ...apiserverOptions,
        port,
        ...(nodeService && grpcPort !== undefined ? { nodeService: { ...nodeService, port: grpcPort } } : {}),
      });
    },
    async stop() {
      await apiserver.close();
      await stopProcess(etcd.pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
