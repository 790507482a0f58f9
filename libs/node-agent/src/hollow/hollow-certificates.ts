// Client certificates for many hollow nodes at once (CN system:node:<name>, O system:nodes, signed by
// the cluster CA), as the apiserver's NodeService demands of every agent. A thousand nodes means a
// thousand keys: each is an EC P-256 key made and signed by one `openssl req -x509 -CA` (about 15 ms,
// against three openssl runs per certificate in @flotilla/cluster's ensureSignedCertificate), and
// several run at once.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { NodeConnectionTls } from '../connection/node-connection';

export interface HollowCertificatesOptions {
  /** Where the keys and certificates go (created when missing). */
  dir: string;
  caCertFile: string;
  caKeyFile: string;
  nodeNames: readonly string[];
  /** openssl processes at once (default: twice the CPUs). */
  concurrency?: number;
  /** Validity (default 1 day: hollow nodes live for one run). */
  days?: number;
}

// Only what a client certificate needs: -x509 would otherwise add the default config's CA extensions.
const OPENSSL_CONFIG = [
  '[req]',
  'distinguished_name = dn',
  'prompt = no',
  '[dn]',
  '[node_client]',
  'basicConstraints = CA:FALSE',
  'keyUsage = critical,digitalSignature',
  'extendedKeyUsage = clientAuth',
  '',
].join('\n');

function issue(options: { config: string; args: readonly string[] }): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', ['req', '-config', options.config, ...options.args], (error, _stdout, stderr) => {
      if (!error) {
        resolve();
        return;
      }
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        new Error(
          missing
            ? 'openssl is not installed: install it (apt-get install openssl) to issue hollow node certificates'
            : `openssl could not issue a hollow node certificate: ${String(stderr).trim() || error.message}`,
        ),
      );
    });
  });
}

/** Issues one certificate per node name; the answer maps each name to its TLS files for NodeConnection. */
export async function issueHollowNodeCertificates(
  options: HollowCertificatesOptions,
): Promise<Map<string, NodeConnectionTls>> {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const config = join(options.dir, 'hollow-openssl.cnf');
  writeFileSync(config, OPENSSL_CONFIG);
  const result = new Map<string, NodeConnectionTls>();
  const names = [...options.nodeNames];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < names.length; index = next++) {
      const name = names[index] ?? '';
      const keyFile = join(options.dir, `${name}.key`);
      const certFile = join(options.dir, `${name}.crt`);
      await issue({
        config,
        args: [
          '-x509',
          '-extensions',
          'node_client',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          keyFile,
          '-out',
          certFile,
          '-subj',
          `/CN=system:node:${name}/O=system:nodes`,
          '-CA',
          options.caCertFile,
          '-CAkey',
          options.caKeyFile,
          '-days',
          String(options.days ?? 1),
        ],
      });
      result.set(name, { caFile: options.caCertFile, certFile, keyFile });
    }
  };
  const concurrency = Math.max(1, options.concurrency ?? availableParallelism() * 2);
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  return result;
}
