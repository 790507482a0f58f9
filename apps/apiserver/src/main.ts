// flotilla-apiserver: flags in kube-apiserver's spelling, wiring only; the server lives in libs/apiserver.
import { startApiServer } from '@flotilla/apiserver';
import { Command, InvalidArgumentError } from 'commander';

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) {
    throw new InvalidArgumentError('must be a port number between 0 and 65535');
  }
  return parsed;
}

const program = new Command('flotilla-apiserver')
  .description('The Flotilla API server: Kubernetes REST on etcd')
  .requiredOption('--etcd-servers <urls>', 'comma-separated etcd client URLs', (value) => value.split(','))
  .option('--bind-address <address>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on (HTTPS when a certificate is given)', port, 6443)
  .requiredOption('--token-auth-file <file>', 'bearer tokens, one `token,user,uid,"groups"` per line')
  .option('--tls-cert-file <file>', 'serving certificate (PEM)')
  .option('--tls-private-key-file <file>', 'serving key (PEM)')
  .option(
    '--agent-client-certificate <file>',
    'client certificate toward node agents for logs and exec (PEM)',
  )
  .option('--agent-client-key <file>', 'key of --agent-client-certificate (PEM)')
  .option('--agent-certificate-authority <file>', "CA of the node agents' serving certificates (PEM)")
  .option('--grpc-port <port>', 'serve the gRPC NodeService to node agents on this port (mutual TLS)', port)
  .option('--client-ca-file <file>', "CA that signed the node agents' client certificates (with --grpc-port)")
  .option('--cluster-cidr <cidr>', 'pod range of the cluster; each node gets a /24 of it', '10.244.0.0/16')
  .option(
    '--service-cluster-ip-range <cidr>',
    "range Services' cluster IPs are allocated from (told to agents too)",
    '10.96.0.0/12',
  )
  .option('--service-node-port-range <range>', 'ports NodePort Services are given', '30000-32767')
  .option('--etcd-compaction-interval <seconds>', 'how often etcd history is compacted', port, 300)
  .option(
    '--redis-url <url>',
    "Redis for node usage samples (metrics.k8s.io), shared by apiserver replicas; without it this process's memory",
  )
  .option(
    '--metrics-ttl <seconds>',
    "how long a node's usage samples outlive its last report (3 × the agents' --metrics-interval)",
    port,
    15,
  )
  .option('--log-level <level>', 'pino log level: debug, info, warn, error', 'info');

program.parse();
const flags = program.opts<{
  etcdServers: string[];
  bindAddress: string;
  port: number;
  tokenAuthFile: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  agentClientCertificate?: string;
  agentClientKey?: string;
  agentCertificateAuthority?: string;
  etcdCompactionInterval: number;
  redisUrl?: string;
  metricsTtl: number;
  logLevel: string;
  grpcPort?: number;
  clientCaFile?: string;
  clusterCidr: string;
  serviceClusterIpRange: string;
  serviceNodePortRange: string;
}>();

if (Boolean(flags.tlsCertFile) !== Boolean(flags.tlsPrivateKeyFile)) {
  process.stderr.write(
    'flotilla-apiserver: give both --tls-cert-file and --tls-private-key-file, or neither\n',
  );
  process.exit(2);
}

const agentFlags = [flags.agentClientCertificate, flags.agentClientKey, flags.agentCertificateAuthority];
if (agentFlags.some(Boolean) && !agentFlags.every(Boolean)) {
  process.stderr.write(
    'flotilla-apiserver: give --agent-client-certificate, --agent-client-key and --agent-certificate-authority together, or none (logs and exec then answer 503)\n',
  );
  process.exit(2);
}

if (flags.grpcPort !== undefined && (!flags.clientCaFile || !flags.tlsCertFile || !flags.tlsPrivateKeyFile)) {
  process.stderr.write(
    'flotilla-apiserver: --grpc-port needs --client-ca-file (the cluster CA) and --tls-cert-file/--tls-private-key-file\n',
  );
  process.exit(2);
}

startApiServer({
  etcdServers: flags.etcdServers,
  bindAddress: flags.bindAddress,
  port: flags.port,
  tokenAuthFile: flags.tokenAuthFile,
  ...(flags.tlsCertFile ? { tlsCertFile: flags.tlsCertFile } : {}),
  ...(flags.tlsPrivateKeyFile ? { tlsPrivateKeyFile: flags.tlsPrivateKeyFile } : {}),
  ...(flags.agentClientCertificate ? { agentClientCertFile: flags.agentClientCertificate } : {}),
  ...(flags.agentClientKey ? { agentClientKeyFile: flags.agentClientKey } : {}),
  ...(flags.agentCertificateAuthority ? { agentCaFile: flags.agentCertificateAuthority } : {}),
  compactionIntervalMs: flags.etcdCompactionInterval * 1000,
  serviceClusterIpRange: flags.serviceClusterIpRange,
  serviceNodePortRange: flags.serviceNodePortRange,
  metrics: {
    ...(flags.redisUrl ? { redisUrl: flags.redisUrl } : {}),
    ttlMs: Math.max(1, flags.metricsTtl) * 1000,
  },
  ...(flags.grpcPort !== undefined && flags.clientCaFile
    ? {
        nodeService: {
          port: flags.grpcPort,
          clientCaFile: flags.clientCaFile,
          clusterCidr: flags.clusterCidr,
          serviceCidr: flags.serviceClusterIpRange,
        },
      }
    : {}),
  logLevel: flags.logLevel,
})
  .then((server) => {
    const shutdown = (signal: string): void => {
      server.logger.info({ signal }, 'shutting down');
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  })
  .catch((error: unknown) => {
    process.stderr.write(`flotilla-apiserver: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
