// `flotilla up` and `flotilla down`: a whole cluster on one machine, its components our own children,
// its state under one home directory (default ~/.flotilla) so that `up` after `down` finds it again.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { join } from 'node:path';
import { startApiserver } from '../components/apiserver.component';
import { startController } from '../components/controller.component';
import { startEtcd } from '../components/etcd.component';
import { startRedis } from '../components/redis.component';
import { ensureAdminToken, ensureClusterPki } from '../pki/cluster-pki';
import { isAlive, stopProcess } from '../processes/supervised-process';
import {
  DEFAULT_PORTS,
  readClusterState,
  writeClusterState,
  type ClusterPorts,
  type ComponentRecord,
} from './cluster-state';

export interface ClusterLayout {
  readonly home: string;
  readonly stateFile: string;
  readonly pkiDir: string;
  readonly logDir: string;
  readonly etcdDataDir: string;
  readonly redisDataDir: string;
  readonly tokenFile: string;
  readonly kubeconfigFile: string;
  /** What the cluster's own processes (scheduler, controllers) use to reach the apiserver. */
  readonly componentKubeconfigFile: string;
}

export function clusterLayout(home: string): ClusterLayout {
  return {
    home,
    stateFile: join(home, 'cluster.json'),
    pkiDir: join(home, 'pki'),
    logDir: join(home, 'logs'),
    etcdDataDir: join(home, 'etcd'),
    redisDataDir: join(home, 'redis'),
    tokenFile: join(home, 'tokens.csv'),
    kubeconfigFile: join(home, 'kubeconfig'),
    componentKubeconfigFile: join(home, 'pki', 'components.kubeconfig'),
  };
}

export type ProgressEvent =
  | { readonly kind: 'step'; readonly message: string }
  | { readonly kind: 'reused'; readonly component: string; readonly pid: number }
  | { readonly kind: 'started'; readonly component: string; readonly pid: number; readonly url?: string }
  | { readonly kind: 'stopped'; readonly component: string; readonly pid: number };

export interface UpOptions {
  readonly home: string;
  readonly apiserverCommand: { readonly command: string; readonly args: readonly string[] };
  /** Started after the apiserver, in order, each with --kubeconfig and --redis. */
  readonly controllers?: ReadonlyArray<{
    readonly name: string;
    readonly command: string;
    readonly args: readonly string[];
  }>;
  readonly ports?: Partial<ClusterPorts>;
  readonly onProgress?: (event: ProgressEvent) => void;
}

interface ComponentStep {
  readonly name: string;
  readonly start: () => Promise<{ readonly pid: number; readonly logFile: string; readonly url: string }>;
}

export interface ClusterConnection {
  readonly server: string;
  readonly caCertFile: string;
  readonly token: string;
  readonly etcdUrl: string;
  readonly redisUrl: string;
  readonly layout: ClusterLayout;
}

/** Starts what is not running, reuses what is; safe to call again. */
export async function clusterUp(options: UpOptions): Promise<ClusterConnection> {
  const layout = clusterLayout(options.home);
  const progress = options.onProgress ?? (() => undefined);
  mkdirSync(layout.home, { recursive: true, mode: 0o700 });
  mkdirSync(layout.logDir, { recursive: true });

  const previous = readClusterState(layout.stateFile);
  const ports: ClusterPorts = { ...DEFAULT_PORTS, ...previous?.ports, ...options.ports };
  const components: Record<string, ComponentRecord> = {};
  const alive = (name: string): ComponentRecord | undefined => {
    const record = previous?.components[name];
    return record && isAlive(record.pid) ? record : undefined;
  };
  const save = (): void => writeClusterState(layout.stateFile, { version: 1, ports, components });

  progress({ kind: 'step', message: 'preparing certificates and the admin token' });
  const pki = ensureClusterPki({ dir: layout.pkiDir, apiserverHosts: ['127.0.0.1', 'localhost', '::1'] });
  const token = ensureAdminToken(layout.tokenFile);

  const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
  // In start order; each later component may rely on the earlier ones being up.
  const steps: readonly ComponentStep[] = [
    {
      name: 'etcd',
      start: () =>
        startEtcd({
          dataDir: layout.etcdDataDir,
          logDir: layout.logDir,
          clientPort: ports.etcdClient,
          peerPort: ports.etcdPeer,
        }),
    },
    {
      name: 'redis',
      start: () => startRedis({ dataDir: layout.redisDataDir, logDir: layout.logDir, port: ports.redis }),
    },
    {
      name: 'apiserver',
      start: () =>
        startApiserver({
          command: options.apiserverCommand.command,
          args: options.apiserverCommand.args,
          etcdUrl,
          port: ports.apiserver,
          bindAddress: '127.0.0.1',
          tokenFile: layout.tokenFile,
          certFile: pki.apiserver.certFile,
          keyFile: pki.apiserver.keyFile,
          caCertFile: pki.caCertFile,
          logDir: layout.logDir,
        }),
    },
    ...(options.controllers ?? []).map((controller): ComponentStep => ({
      name: controller.name,
      start: () => {
        writeComponentKubeconfig({
          file: layout.componentKubeconfigFile,
          server: `https://127.0.0.1:${ports.apiserver}`,
          caCertFile: pki.caCertFile,
          token,
        });
        return startController({
          name: controller.name,
          command: controller.command,
          args: controller.args,
          kubeconfigFile: layout.componentKubeconfigFile,
          redisUrl: `redis://127.0.0.1:${ports.redis}`,
          logDir: layout.logDir,
        });
      },
    })),
  ];

  for (const step of steps) {
    const running = alive(step.name);
    if (running) {
      progress({ kind: 'reused', component: step.name, pid: running.pid });
      components[step.name] = running;
      continue;
    }
    progress({ kind: 'step', message: `starting ${step.name}` });
    const started = await step.start();
    components[step.name] = { pid: started.pid, logFile: started.logFile, url: started.url };
    progress({ kind: 'started', component: step.name, pid: started.pid, url: started.url });
    save();
  }

  return {
    server: components['apiserver']?.url ?? `https://127.0.0.1:${ports.apiserver}`,
    caCertFile: pki.caCertFile,
    token,
    etcdUrl,
    redisUrl: components['redis']?.url ?? `redis://127.0.0.1:${ports.redis}`,
    layout,
  };
}

/** Stops every component, newest first; data stays for the next `up`. */
export async function clusterDown(options: {
  readonly home: string;
  readonly onProgress?: (event: ProgressEvent) => void;
}): Promise<void> {
  const layout = clusterLayout(options.home);
  const state = readClusterState(layout.stateFile);
  if (!state) return;
  const names = Object.keys(state.components).reverse();
  for (const name of names) {
    const record = state.components[name];
    if (!record) continue;
    await stopProcess(record.pid);
    options.onProgress?.({ kind: 'stopped', component: name, pid: record.pid });
  }
  writeClusterState(layout.stateFile, { version: 1, ports: state.ports, components: {} });
}

/** A kubeconfig for the cluster's own processes, with the CA inline so it works from any directory. */
function writeComponentKubeconfig(options: {
  file: string;
  server: string;
  caCertFile: string;
  token: string;
}): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'flotilla',
        cluster: {
          server: options.server,
          'certificate-authority-data': readFileSync(options.caCertFile).toString('base64'),
        },
      },
    ],
    users: [{ name: 'flotilla-components', user: { token: options.token } }],
    contexts: [
      {
        name: 'flotilla',
        context: { cluster: 'flotilla', user: 'flotilla-components', namespace: 'default' },
      },
    ],
    'current-context': 'flotilla',
  };
  writeFileSync(options.file, stringify(config), { mode: 0o600 });
}
