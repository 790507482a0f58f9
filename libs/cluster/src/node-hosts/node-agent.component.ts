// A node agent on a node host: its client certificate (CN system:node:<name>, as kubelet's), its flags,
// and a start that waits until the apiserver reports the Node Ready. `flotilla up --nodes` and the
// multi-node test harness both start agents through here, so they run the same thing.
import { mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { ensureSignedCertificate, type CertificatePaths } from '../pki/cluster-pki';
import { ComponentError, isAlive, sleep, tail, type StartedProcess } from '../processes/supervised-process';
import type { NodeHost } from './node-host';

export interface NodeAgentOptions {
  readonly host: NodeHost;
  /** How to run the agent executable: `node .../node-agent/src/main.js`. */
  readonly command: string;
  readonly args: readonly string[];
  /** The apiserver's HTTPS URL as the node reaches it (the host's LAN address). */
  readonly apiserverUrl: string;
  /** host:port of the apiserver's gRPC NodeService as the node reaches it. */
  readonly grpcAddress: string;
  readonly caCertFile: string;
  readonly caKeyFile: string;
  /** Where the node's certificate goes (the cluster's PKI dir). */
  readonly pkiDir: string;
  /** host:port of the cluster registry: image names without a registry are pulled from there. */
  readonly registry?: string;
  readonly logDir: string;
  /** An admin token, only to read the Node object while waiting for readiness. */
  readonly token: string;
  readonly readyTimeoutMs?: number;
  readonly extraArgs?: readonly string[];
}

export interface RunningNodeAgent extends StartedProcess {
  readonly url: string;
}

/**
 * A node's identity toward the apiserver (CN system:node:NAME in system:nodes, which is all the
 * node service lets it speak for) and its serving certificate for logs and exec.
 */
export function ensureNodeCertificate(options: {
  readonly pkiDir: string;
  readonly nodeName: string;
  /** Addresses and names the certificate serves besides the node name. */
  readonly addresses: readonly string[];
  readonly caCertFile: string;
  readonly caKeyFile: string;
}): CertificatePaths {
  return ensureSignedCertificate({
    dir: options.pkiDir,
    name: `node-${options.nodeName}`,
    commonName: `system:node:${options.nodeName}`,
    organization: 'system:nodes',
    hosts: [...options.addresses, options.nodeName],
    caCertFile: options.caCertFile,
    caKeyFile: options.caKeyFile,
    days: '3650',
    usage: 'serverAuth,clientAuth',
  });
}

export function nodeAgentArgs(options: NodeAgentOptions, certificate: CertificatePaths): string[] {
  const { host } = options;
  return [
    ...options.args,
    '--node-name',
    host.name,
    '--node-ip',
    host.address,
    '--apiserver',
    options.grpcAddress,
    '--ca-file',
    options.caCertFile,
    '--cert-file',
    certificate.certFile,
    '--key-file',
    certificate.keyFile,
    '--state-dir',
    host.record.stateDir,
    '--cgroup-parent',
    host.record.podsCgroup,
    // The node's own cgroup holds the agent and its pods: its usage is what the node uses.
    '--node-usage-cgroup',
    host.record.cgroup,
    ...(options.registry ? ['--registry', options.registry] : []),
    ...(options.extraArgs ?? []),
  ];
}

/** Starts the agent inside its node host and waits until its Node is Ready. */
export async function startNodeAgent(options: NodeAgentOptions): Promise<RunningNodeAgent> {
  mkdirSync(options.pkiDir, { recursive: true, mode: 0o700 });
  const certificate = ensureNodeCertificate({
    pkiDir: options.pkiDir,
    nodeName: options.host.name,
    addresses: [options.host.address],
    caCertFile: options.caCertFile,
    caKeyFile: options.caKeyFile,
  });
  const logFile = join(options.logDir, `node-agent-${options.host.name}.log`);
  const started = await options.host.startDetached({
    name: `node-agent ${options.host.name}`,
    command: options.command,
    args: nodeAgentArgs(options, certificate),
    logFile,
  });
  const ca = readFileSync(options.caCertFile);
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (!isAlive(started.pid)) {
      throw new ComponentError(
        `the node agent of ${options.host.name} exited during start-up; last lines of ${logFile}:\n${tail(logFile, 15)}`,
      );
    }
    if (
      await nodeIsReady({
        apiserverUrl: options.apiserverUrl,
        ca,
        token: options.token,
        node: options.host.name,
      })
    ) {
      break;
    }
    if (Date.now() > deadline) {
      throw new ComponentError(
        `node ${options.host.name} did not become Ready within ${(options.readyTimeoutMs ?? 60_000) / 1000} s; see ${logFile}:\n${tail(logFile, 15)}`,
      );
    }
    await sleep(200);
  }
  return { ...started, url: '' };
}

/** Whether the apiserver has the Node with condition Ready=True. */
export function nodeIsReady(options: {
  readonly apiserverUrl: string;
  readonly ca: Buffer;
  readonly token: string;
  readonly node: string;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${options.apiserverUrl}/api/v1/nodes/${encodeURIComponent(options.node)}`,
      { ca: options.ca, timeout: 2000, headers: { Authorization: `Bearer ${options.token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) return resolve(false);
          try {
            const node = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              status?: { conditions?: Array<{ type?: string; status?: string }> };
            };
            resolve(
              (node.status?.conditions ?? []).some(
                (condition) => condition.type === 'Ready' && condition.status === 'True',
              ),
            );
          } catch {
            resolve(false);
          }
        });
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}
