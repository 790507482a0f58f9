// `flotilla up` / `flotilla down`: a whole cluster on this machine via @flotilla/cluster, and the
// kubeconfig that reaches it, written where `flotilla` (and `kubectl --kubeconfig`) look for it.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import {
  APISERVER_NODE_FLAGS,
  clusterDown,
  clusterUp,
  type ClusterPorts,
  type ProgressEvent,
} from '@flotilla/cluster';
import {
  flotillaHome,
  readKubeconfigFile,
  upsertCluster,
  upsertContext,
  upsertUser,
  writeKubeconfigFile,
} from '@flotilla/client';
import { CliError, EXIT_USAGE, type CliContext } from '../cli-context';
import { DEFAULT_NODE_CPUS, DEFAULT_NODE_MEMORY, nodeSpecsFrom, type NodeSpec } from './up-nodes.util';

export const LOCAL_CONTEXT = 'flotilla';
const LOCAL_USER = 'flotilla-admin';

interface UpFlags {
  readonly home?: string;
  readonly apiserverPort?: number;
  readonly etcdPort?: number;
  readonly etcdPeerPort?: number;
  readonly redisPort?: number;
  readonly registryPort?: number;
  readonly nodes?: number;
  readonly nodeCpus?: string;
  readonly nodeMemory?: string;
  readonly node?: string[];
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new CliError(`"${value}" is not a port number (1-65535)`, EXIT_USAGE);
  }
  return port;
}

export function createUpCommand(context: CliContext): Command {
  return (
    new Command('up')
      .description('start a local cluster (etcd, Redis, apiserver) and write its kubeconfig')
      .option('--home <dir>', 'where the cluster keeps its state (default: $FLOTILLA_HOME or ~/.flotilla)')
      // Ports are remembered in the cluster's state, so later `up` runs need not repeat them.
      .option('--apiserver-port <port>', 'the port the apiserver listens on (default 6443)', portNumber)
      .option('--etcd-port <port>', "etcd's client port (default 12379)", portNumber)
      .option('--etcd-peer-port <port>', "etcd's peer port (default 12380)", portNumber)
      .option('--redis-port <port>', "Redis's port (default 16379)", portNumber)
      .option('--registry-port <port>', "the registry's port on the node LAN (default 5000)", portNumber)
      // Nodes are remembered too: `up` without node flags brings back the previous nodes.
      .option(
        '--nodes <count>',
        'node hosts to run, each a network namespace with its own cgroup and agent (needs root; 0: none)',
        wholeNumber,
      )
      .option('--node-cpus <cpus>', `CPU limit of each node (default ${DEFAULT_NODE_CPUS})`)
      .option('--node-memory <memory>', `memory limit of each node (default ${DEFAULT_NODE_MEMORY})`)
      .option(
        '--node <name[:cpus[:memory]]>',
        'a node with its own size, e.g. big:2:4Gi (repeatable; instead of --nodes)',
        collect,
      )
      .action(async (flags: UpFlags) => {
        const home = flags.home ? resolve(context.io.cwd, flags.home) : flotillaHome(context.io.env);
        const ports: Partial<ClusterPorts> = {
          ...(flags.apiserverPort !== undefined ? { apiserver: flags.apiserverPort } : {}),
          ...(flags.etcdPort !== undefined ? { etcdClient: flags.etcdPort } : {}),
          ...(flags.etcdPeerPort !== undefined ? { etcdPeer: flags.etcdPeerPort } : {}),
          ...(flags.redisPort !== undefined ? { redis: flags.redisPort } : {}),
          ...(flags.registryPort !== undefined ? { registry: flags.registryPort } : {}),
        };
        const nodes = nodeSpecsOrUndefined(flags);
        const apiserverMain = locateComponent('apiserver', 'FLOTILLA_APISERVER', context.io.env);
        const schedulerMain = locateComponent('scheduler', 'FLOTILLA_SCHEDULER', context.io.env);
        const controllerManagerMain = locateComponent(
          'controller-manager',
          'FLOTILLA_CONTROLLER_MANAGER',
          context.io.env,
        );
        const agentMain =
          nodes === undefined || nodes.length > 0
            ? locateOptionalComponent('node-agent', 'FLOTILLA_NODE_AGENT', context.io.env)
            : undefined;
        const connection = await clusterUp({
          home,
          apiserverCommand: { command: process.execPath, args: [...APISERVER_NODE_FLAGS, apiserverMain] },
          ...(nodes !== undefined ? { nodes } : {}),
          ...(agentMain !== undefined
            ? { agentCommand: { command: process.execPath, args: [agentMain] } }
            : {}),
          controllers: [
            { name: 'scheduler', command: process.execPath, args: [schedulerMain] },
            { name: 'controller-manager', command: process.execPath, args: [controllerManagerMain] },
          ],
          ports,
          onProgress: (event) => context.io.write(`${progressLine(event)}\n`),
        });
        const kubeconfigFile = connection.layout.kubeconfigFile;
        writeLocalKubeconfig({
          file: kubeconfigFile,
          server: connection.server,
          caPem: readFileSync(connection.caCertFile),
          token: connection.token,
        });
        context.io.write(`Cluster is up at ${connection.server}\n`);
        for (const node of connection.nodes) context.io.write(`Node ${node.name} at ${node.address}\n`);
        if (connection.nodes.length === 0) {
          context.io.write(
            'No nodes: pods stay Pending until some join. Add nodes with `flotilla up --nodes 3`\n',
          );
        }
        if (connection.registry !== undefined) {
          context.io.write(
            `Registry at ${connection.registry}: \`flotilla image push IMAGE\` pushes there, and every node pulls from it\n`,
          );
        }
        context.io.write(`Wrote ${kubeconfigFile} (context "${LOCAL_CONTEXT}")\n`);
        const kubeconfigEnv = context.io.env['KUBECONFIG'];
        if (
          kubeconfigEnv !== undefined &&
          kubeconfigEnv !== '' &&
          !kubeconfigEnv.split(':').includes(kubeconfigFile)
        ) {
          context.io.write(
            `KUBECONFIG is set to ${kubeconfigEnv}: add ${kubeconfigFile} to it or pass --kubeconfig ${kubeconfigFile}\n`,
          );
        }
        context.io.write(
          'Try: flotilla get nodes   (or: kubectl --kubeconfig ' + kubeconfigFile + ' get nodes)\n',
        );
      })
  );
}

export function createDownCommand(context: CliContext): Command {
  return new Command('down')
    .description('stop the local cluster; its data stays for the next `flotilla up`')
    .option('--home <dir>', 'where the cluster keeps its state (default: $FLOTILLA_HOME or ~/.flotilla)')
    .action(async (flags: { home?: string }) => {
      const home = flags.home ? resolve(context.io.cwd, flags.home) : flotillaHome(context.io.env);
      let stopped = 0;
      await clusterDown({
        home,
        onProgress: (event) => {
          stopped += 1;
          context.io.write(`${progressLine(event)}\n`);
        },
      });
      context.io.write(
        stopped === 0
          ? `No cluster was running from ${home}\n`
          : `Cluster is down; its data stays in ${home}\n`,
      );
    });
}

/** Adds (or refreshes) the local cluster's entries, keeping whatever else the file holds. */
export function writeLocalKubeconfig(options: {
  readonly file: string;
  readonly server: string;
  readonly caPem: Buffer;
  readonly token: string;
}): void {
  let config = readKubeconfigFile(options.file);
  config = upsertCluster(config, {
    name: LOCAL_CONTEXT,
    cluster: { server: options.server, 'certificate-authority-data': options.caPem.toString('base64') },
  });
  config = upsertUser(config, { name: LOCAL_USER, user: { token: options.token } });
  const existing = config.contexts.find((c) => c.name === LOCAL_CONTEXT)?.context;
  config = upsertContext(config, {
    name: LOCAL_CONTEXT,
    context: { cluster: LOCAL_CONTEXT, user: LOCAL_USER, namespace: existing?.namespace ?? 'default' },
  });
  writeKubeconfigFile(options.file, { ...config, 'current-context': LOCAL_CONTEXT });
}

function progressLine(event: ProgressEvent): string {
  switch (event.kind) {
    case 'step':
      return `• ${event.message}`;
    case 'reused':
      return `✓ ${event.component} already running (pid ${event.pid})`;
    case 'started':
      return `✓ ${event.component} started (pid ${event.pid}${event.url ? `, ${event.url}` : ''})`;
    case 'stopped':
      return `✓ ${event.component} stopped (pid ${event.pid})`;
    case 'removed':
      return `✓ ${event.what} removed`;
  }
}

/** The built apiserver entry point: $FLOTILLA_APISERVER, else next to this CLI in dist/. */
function locateComponent(
  name: 'apiserver' | 'scheduler' | 'controller-manager',
  variable: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const configured = env[variable];
  // From dist/apps/cli/src/commands to dist/apps/<name>/src/main.js.
  const main =
    configured && configured !== ''
      ? resolve(configured)
      : resolve(__dirname, `../../../${name}/src/main.js`);
  if (!existsSync(main)) {
    throw new CliError(
      `the ${name} is not built (looked for ${main}): run \`npm run build\` in the flotilla checkout, or set ${variable} to its main.js`,
    );
  }
  return main;
}

function wholeNumber(value: string): number {
  const count = Number(value);
  if (!(Number.isInteger(count) && count >= 0)) {
    throw new CliError(`"${value}" is not a whole number`, EXIT_USAGE);
  }
  return count;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Undefined when no node flag is given: the cluster keeps the nodes it had. */
function nodeSpecsOrUndefined(flags: UpFlags): NodeSpec[] | undefined {
  if (
    flags.nodes === undefined &&
    flags.node === undefined &&
    flags.nodeCpus === undefined &&
    flags.nodeMemory === undefined
  ) {
    return undefined;
  }
  try {
    return nodeSpecsFrom({ ...flags, nodes: flags.nodes ?? (flags.node ? undefined : 1) });
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), EXIT_USAGE);
  }
}

/** The node agent's entry point when it is built; the cluster then refuses nodes with a clear message. */
function locateOptionalComponent(
  name: 'node-agent',
  variable: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const configured = env[variable];
  const main =
    configured && configured !== ''
      ? resolve(configured)
      : resolve(__dirname, `../../../${name}/src/main.js`);
  return existsSync(main) ? main : undefined;
}
