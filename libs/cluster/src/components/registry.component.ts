// An OCI distribution registry on loopback: Debian's docker-registry (the CNCF distribution server) as a
// supervised child with a generated config and its own storage dir. The image tests push and pull
// against it; a local cluster can use it as its node-shared registry.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries';
import { ensurePortsFree } from './ports';
import { startDetached, waitUntilReady, type StartedProcess } from '../processes/supervised-process';

/** Bearer-token authentication (the Docker token flow), verified against a CA bundle. */
export interface RegistryTokenAuth {
  /** The token server's URL clients are sent to (WWW-Authenticate realm). */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** PEM certificates whose keys may sign tokens. */
  readonly rootCertBundle: string;
}

export interface RegistryOptions {
  /** Where blobs and manifests are stored; reusing it keeps the registry's content. */
  readonly dataDir: string;
  readonly logDir: string;
  readonly port: number;
  readonly host?: string;
  readonly tokenAuth?: RegistryTokenAuth;
}

export interface RunningRegistry extends StartedProcess {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** host:port, the registry part of image names pushed here. */
  readonly address: string;
}

export async function startRegistry(options: RegistryOptions): Promise<RunningRegistry> {
  const binary = requireBinary('docker-registry', 'docker-registry');
  const host = options.host ?? '127.0.0.1';
  const address = `${host}:${options.port}`;
  await ensurePortsFree('registry', [options.port], host);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(options.logDir, { recursive: true });
  const configFile = join(options.logDir, 'registry.yml');
  writeFileSync(configFile, registryConfig(options, address), { mode: 0o600 });
  const started = startDetached({
    name: 'registry',
    command: binary,
    args: ['serve', configFile],
    logFile: join(options.logDir, 'registry.log'),
  });
  const url = `http://${address}`;
  await waitUntilReady(started, () => registryAnswers(url), { timeoutMs: 15_000 });
  return { ...started, url, address };
}

/** The registry answers /v2/ with 200, or 401 when it requires a token: either way it is up. */
export async function registryAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200 || response.status === 401;
  } catch {
    return false;
  }
}

function registryConfig(options: RegistryOptions, address: string): string {
  // JSON is valid YAML, and quoting every value keeps paths with odd characters safe.
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'warn', fields: { service: 'registry' } },
    storage: {
      filesystem: { rootdirectory: options.dataDir },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: address,
      secret: randomBytes(24).toString('hex'),
      headers: { 'X-Content-Type-Options': ['nosniff'] },
    },
  };
  if (options.tokenAuth !== undefined) {
    config['auth'] = {
      token: {
        realm: options.tokenAuth.realm,
        service: options.tokenAuth.service,
        issuer: options.tokenAuth.issuer,
        rootcertbundle: options.tokenAuth.rootCertBundle,
      },
    };
  }
  return `${JSON.stringify(config, null, 2)}\n`;
}
