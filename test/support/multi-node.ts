// The one helper for multi-node e2e tests: a real cluster on this machine. The control plane (etcd,
// the apiserver with its gRPC NodeService on the LAN address, the scheduler and the node lifecycle
// controller) runs on the host; each node is a node host from @flotilla/cluster (its own network
// namespace on the cluster's LAN bridge, its own cgroup limits and state dir) running the real node
// agent from dist/. An image registry on the LAN address holds the base image flotilla/busybox:latest,
// which every agent pulls by its plain name. Every name comes from a run id and goes in close().
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quantity } from '@flotilla/api';
import { createClient, type RestClient } from '@flotilla/client';
import {
  freePort,
  isAlive,
  openNodeCluster,
  startNodeAgent,
  startRegistry,
  stopProcess,
  testClusterId,
  type NodeCluster,
  type NodeHost,
} from '@flotilla/cluster';
import {
  startDeploymentController,
  startEndpointsController,
  startHpaController,
  startGarbageCollector,
  startNodeLifecycleController,
  startReplicaSetController,
  type RunningNodeLifecycle,
} from '@flotilla/controllers';
import { ImageStore, loadImageArchive, RegistryClient } from '@flotilla/runtime';
import { startScheduler, type RunningScheduler } from '@flotilla/scheduler';
import { startTestControlPlane, type TestControlPlane } from './cluster';
import { requireTestEnv } from './eventually';
import { claimTestDir } from './leftovers';

const ROOT = join(__dirname, '..', '..');
const AGENT_MAIN = join(ROOT, 'dist', 'apps', 'node-agent', 'src', 'main.js');
export const BASE_IMAGE = 'flotilla/busybox:latest';

export interface TestNodeSpec {
  readonly name: string;
  /** A CPU quantity: "1", "500m". */
  readonly cpu: string;
  /** A memory quantity: "512Mi". */
  readonly memory: string;
}

export interface TestClusterOptions {
  readonly nodes: readonly TestNodeSpec[];
  /** Names the run's directory and kubeconfig context. */
  readonly name?: string;
  /** Missed heartbeats before a node is unreachable (default 6 s, so tests need not wait 15 s). */
  readonly nodeMonitorGracePeriodMs?: number;
  /** How long an unreachable node keeps its pods before they are evicted (default 5 s). */
  readonly podEvictionTimeoutMs?: number;
  /** The autoscaler's tolerance (default Kubernetes' 0.1). */
  readonly hpaTolerance?: number;
}

export interface TestClusterNode {
  readonly name: string;
  /** The node's address on the cluster LAN. */
  readonly address: string;
  readonly host: NodeHost;
  /** The running agent's pid. */
  agentPid(): number | undefined;
  /** SIGKILLs the agent alone: its containers keep running under their shims. */
  killAgent(): Promise<void>;
  /** Starts the agent again on the same node host and waits until its Node is Ready. */
  restartAgent(): Promise<void>;
  /** Removes the node host: the agent, every container, the namespace, cgroups and state dir. */
  remove(): Promise<void>;
}

export interface TestCluster {
  readonly controlPlane: TestControlPlane;
  readonly kubeconfigPath: string;
  readonly client: RestClient;
  /** host:port of the cluster registry, holding flotilla/busybox:latest. */
  readonly registry: string;
  readonly nodes: readonly TestClusterNode[];
  node(name: string): TestClusterNode;
  close(): Promise<void>;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'multi-node tests create network namespaces, a bridge, cgroups and containers and must run as root',
    );
  }
}

function requireAgentBuild(): string {
  const main = process.env['FLOTILLA_NODE_AGENT'] ?? AGENT_MAIN;
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: run \`npx tsc -b tsconfig.build.json\` (npm test builds first)`);
  }
  return main;
}

export async function startTestCluster(options: TestClusterOptions): Promise<TestCluster> {
  requireRoot();
  const redisUrl = requireTestEnv('FLOTILLA_TEST_REDIS');
  const agentMain = requireAgentBuild();
  const name = options.name ?? 'multi-node';
  const dir = mkdtempSync(join(tmpdir(), `flotilla-${name}-`));
  claimTestDir(dir);
  const cleanups: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => errors.push(error));
    }
    cleanups.length = 0;
    rmSync(dir, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  };
  try {
    const cluster: NodeCluster = await openNodeCluster({
      clusterId: testClusterId(process.pid, randomBytes(2).toString('hex')),
      ownerPid: process.pid,
    });
    // Destroyed last: it kills whatever still runs on the nodes.
    cleanups.push(() => cluster.destroy());

    const controlPlane = await startTestControlPlane(name, {
      bindAddress: cluster.hostAddress,
      nodeService: true,
      heartbeatIntervalSeconds: 1,
    });
    cleanups.push(() => controlPlane.stop());
    const grpcPort = controlPlane.grpcPort;
    if (grpcPort === undefined) throw new Error('the test apiserver started without its NodeService');

    const registry = await startRegistry({
      dataDir: join(dir, 'registry'),
      logDir: dir,
      port: await freePort(cluster.hostAddress),
      host: cluster.hostAddress,
    });
    cleanups.push(() => stopProcess(registry.pid));
    await pushBaseImage({ registry: registry.address, dir });

    const client = createClient({ kubeconfig: controlPlane.kubeconfigPath });
    cleanups.push(() => Promise.resolve(client.close()));
    const scheduler: RunningScheduler = startScheduler({
      client,
      redisUrl,
      queueName: `scheduler-${randomUUID()}`,
      resyncIntervalMs: 2000,
    });
    cleanups.push(() => scheduler.stop());
    const lifecycle: RunningNodeLifecycle = startNodeLifecycleController({
      client,
      redisUrl,
      queueName: `node-lifecycle-${randomUUID()}`,
      gracePeriodMs: options.nodeMonitorGracePeriodMs ?? 6_000,
      evictionTimeoutMs: options.podEvictionTimeoutMs ?? 5_000,
      checkIntervalMs: 500,
    });
    cleanups.push(() => lifecycle.stop());
    // The workload controllers as the controller-manager runs them, so e2e tests can use Deployments.
    const run = randomUUID();
    const workloads = [
      startReplicaSetController({ client, redisUrl, queueName: `rs-${run}`, resyncIntervalMs: 5000 }),
      startDeploymentController({ client, redisUrl, queueName: `deploy-${run}`, resyncIntervalMs: 5000 }),
      startGarbageCollector({ client, redisUrl, queueName: `gc-${run}`, resyncIntervalMs: 5000 }),
      startEndpointsController({ client, redisUrl, queueName: `ep-${run}`, resyncIntervalMs: 5000 }),
      startHpaController({
        client,
        redisUrl,
        queueName: `hpa-${run}`,
        syncPeriodMs: 2000,
        ...(options.hpaTolerance !== undefined ? { tuning: { tolerance: options.hpaTolerance } } : {}),
      }),
    ];
    for (const controller of workloads) cleanups.push(() => controller.stop());
    await Promise.all([scheduler.ready, lifecycle.ready, ...workloads.map((controller) => controller.ready)]);

    const nodes: TestClusterNode[] = [];
    for (const spec of options.nodes) {
      const host = await cluster.addNode({
        name: spec.name,
        stateDir: join(dir, 'nodes', spec.name),
        cpuMillicores: Number(Quantity.parse(spec.cpu).milliValue()),
        memoryBytes: Number(Quantity.parse(spec.memory).value()),
      });
      let pid: number | undefined;
      const start = async (): Promise<void> => {
        const agent = await startNodeAgent({
          host,
          command: process.execPath,
          args: [agentMain],
          apiserverUrl: controlPlane.url,
          grpcAddress: `${cluster.hostAddress}:${grpcPort}`,
          caCertFile: controlPlane.caFile,
          caKeyFile: controlPlane.caKeyFile,
          pkiDir: join(controlPlane.pkiDir, 'nodes'),
          registry: registry.address,
          logDir: dir,
          token: controlPlane.token,
        });
        pid = agent.pid;
      };
      await start();
      nodes.push({
        name: spec.name,
        address: host.address,
        host,
        agentPid: () => pid,
        async killAgent() {
          if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
          while (pid !== undefined && isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
        },
        async restartAgent() {
          if (pid !== undefined && isAlive(pid))
            throw new Error(`the agent of ${spec.name} still runs; kill it first`);
          await start();
        },
        async remove() {
          await cluster.removeNode(spec.name);
          pid = undefined;
        },
      });
    }
    return {
      controlPlane,
      kubeconfigPath: controlPlane.kubeconfigPath,
      client,
      registry: registry.address,
      nodes,
      node(nodeName: string) {
        const found = nodes.find((node) => node.name === nodeName);
        if (!found) throw new Error(`no node ${nodeName} in this test cluster`);
        return found;
      },
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** The base image from scripts/base-image.sh (built offline, cached), pushed under its plain name. */
async function pushBaseImage(options: { registry: string; dir: string }): Promise<void> {
  const archive = execFileSync('bash', [join(ROOT, 'scripts', 'base-image.sh'), '--print-path'], {
    encoding: 'utf8',
  }).trim();
  const store = new ImageStore({ stateDir: join(options.dir, 'images') });
  await loadImageArchive(store, archive);
  await new RegistryClient({ insecureRegistries: [options.registry] }).push(store, BASE_IMAGE, {
    target: `${options.registry}/${BASE_IMAGE}`,
  });
}
