// The cluster CA and the certificates signed by it. `flotilla up` makes them once; later starts reuse
// them, so kubeconfigs handed out earlier keep working. openssl runs only here, at cluster creation,
// never on a per-request or per-container path.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { requireBinary } from '../components/binaries';
import { ComponentError } from '../processes/supervised-process';

export interface CertificatePaths {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface ClusterPki {
  readonly caCertFile: string;
  readonly caKeyFile: string;
  readonly apiserver: CertificatePaths;
  /** The apiserver's client identity toward node agents (logs, exec), as kube-apiserver's kubelet client. */
  readonly apiserverAgentClient: CertificatePaths;
}

export interface PkiOptions {
  readonly dir: string;
  /** Names and addresses clients use to reach the apiserver; each becomes a subjectAltName. */
  readonly apiserverHosts: readonly string[];
  readonly validityDays?: number;
}

const CA_SUBJECT = '/CN=flotilla-ca';

export function ensureClusterPki(options: PkiOptions): ClusterPki {
  requireBinary('openssl', 'openssl');
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const days = String(options.validityDays ?? 3650);
  const caKeyFile = join(options.dir, 'ca.key');
  const caCertFile = join(options.dir, 'ca.crt');
  if (!existsSync(caCertFile) || !existsSync(caKeyFile)) {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKeyFile]);
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      caKeyFile,
      '-subj',
      CA_SUBJECT,
      '-days',
      days,
      '-out',
      caCertFile,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  }
  const apiserver = ensureSignedCertificate({
    dir: options.dir,
    name: 'apiserver',
    commonName: 'flotilla-apiserver',
    hosts: options.apiserverHosts,
    caCertFile,
    caKeyFile,
    days,
    usage: 'serverAuth',
  });
  const apiserverAgentClient = ensureSignedCertificate({
    dir: options.dir,
    name: 'apiserver-agent-client',
    // Agents admit exactly this common name on AgentService (APISERVER_CLIENT_COMMON_NAME).
    commonName: 'flotilla-apiserver',
    organization: 'system:masters',
    hosts: [],
    caCertFile,
    caKeyFile,
    days,
    usage: 'clientAuth',
  });
  return { caCertFile, caKeyFile, apiserver, apiserverAgentClient };
}

export interface SignedCertificateOptions {
  readonly dir: string;
  readonly name: string;
  readonly commonName: string;
  readonly organization?: string;
  readonly hosts: readonly string[];
  readonly caCertFile: string;
  readonly caKeyFile: string;
  readonly days: string;
  readonly usage: 'serverAuth' | 'clientAuth' | 'serverAuth,clientAuth';
}

/** Issues (or reuses, when its names are unchanged) a certificate signed by the cluster CA. */
export function ensureSignedCertificate(options: SignedCertificateOptions): CertificatePaths {
  const keyFile = join(options.dir, `${options.name}.key`);
  const certFile = join(options.dir, `${options.name}.crt`);
  const sans = options.hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  const sansFile = join(options.dir, `${options.name}.sans`);
  const previousSans = existsSync(sansFile) ? readFileSync(sansFile, 'utf8') : undefined;
  if (existsSync(certFile) && existsSync(keyFile) && previousSans === sans) return { certFile, keyFile };

  const csrFile = join(options.dir, `${options.name}.csr`);
  const extFile = join(options.dir, `${options.name}.ext`);
  const subject = `/CN=${options.commonName}${options.organization ? `/O=${options.organization}` : ''}`;
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  openssl(['req', '-new', '-key', keyFile, '-subj', subject, '-out', csrFile]);
  writeFileSync(
    extFile,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${options.usage}`,
      ...(sans ? [`subjectAltName=${sans}`] : []),
    ].join('\n') + '\n',
  );
  openssl([
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    options.caCertFile,
    '-CAkey',
    options.caKeyFile,
    '-CAcreateserial',
    '-days',
    options.days,
    '-extfile',
    extFile,
    '-out',
    certFile,
  ]);
  writeFileSync(sansFile, sans);
  return { certFile, keyFile };
}

function openssl(args: readonly string[]): void {
  const result = spawnSync('openssl', [...args], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new ComponentError(`openssl ${args[0]} failed: ${result.stderr.trim() || `exit ${result.status}`}`);
  }
}

/**
 * The token file the apiserver reads (kube-apiserver's --token-auth-file format:
 * token,user,uid,"group1,group2"), with an admin token created on first use.
 */
export function ensureAdminToken(tokenFile: string): string {
  if (existsSync(tokenFile)) {
    for (const line of readFileSync(tokenFile, 'utf8').split('\n')) {
      const [token, user] = line.split(',');
      if (token && user === 'admin') return token;
    }
  }
  const token = randomBytes(32).toString('hex');
  const existing = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8') : '';
  writeFileSync(tokenFile, `${existing}${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  return token;
}
