// flotilla-controller-manager: wiring only. Controllers live in libs/controllers; replicas elect one
// leader through a Lease so that only one acts at a time.
import { hostname } from 'node:os';
import { createClient, startLeaderElection } from '@flotilla/client';
import {
  startDeploymentController,
  startEndpointsController,
  startGarbageCollector,
  startHpaController,
  startNodeLifecycleController,
  startReplicaSetController,
  type RunningDeploymentController,
  type RunningEndpointsController,
  type RunningGarbageCollector,
  type RunningHpaController,
  type RunningNodeLifecycle,
  type RunningReplicaSetController,
} from '@flotilla/controllers';
import { Command } from 'commander';

const program = new Command('flotilla-controller-manager')
  .description(
    'Runs the cluster controllers: deployments, replica sets, endpoints, horizontal pod autoscalers, garbage collection by ownerReferences, node lifecycle',
  )
  .option(
    '--kubeconfig <file>',
    'kubeconfig to reach the apiserver (default: $KUBECONFIG or ~/.flotilla/kubeconfig)',
  )
  .requiredOption('--redis <url>', 'Redis URL for the work queues, e.g. redis://127.0.0.1:16379')
  .option('--no-leader-elect', 'run without electing a leader (only safe with a single replica)')
  .option(
    '--node-monitor-grace-period <seconds>',
    'missed heartbeats before a node is unreachable',
    Number,
    15,
  )
  .option('--pod-eviction-timeout <seconds>', 'how long an unreachable node keeps its pods', Number, 30)
  .option('--concurrent-deployment-syncs <n>', 'deployments this replica reconciles at once', Number, 5)
  .option('--concurrent-replicaset-syncs <n>', 'replica sets this replica reconciles at once', Number, 5)
  .option(
    '--horizontal-pod-autoscaler-sync-period <seconds>',
    'how often every HorizontalPodAutoscaler is evaluated',
    Number,
    3,
  )
  .option(
    '--horizontal-pod-autoscaler-tolerance <ratio>',
    'how far usage/target must be from 1.0 before the autoscaler acts',
    Number,
    0.1,
  )
  .option(
    '--horizontal-pod-autoscaler-cpu-initialization-period <seconds>',
    'after a pod starts, how long its cpu samples are only trusted once it is Ready for a full window',
    Number,
    300,
  )
  .option(
    '--horizontal-pod-autoscaler-initial-readiness-delay <seconds>',
    'after a pod starts, how long readiness changes count as still starting up',
    Number,
    30,
  );

program.parse();
const flags = program.opts<{
  kubeconfig?: string;
  redis: string;
  leaderElect: boolean;
  nodeMonitorGracePeriod: number;
  podEvictionTimeout: number;
  concurrentDeploymentSyncs: number;
  concurrentReplicasetSyncs: number;
  horizontalPodAutoscalerSyncPeriod: number;
  horizontalPodAutoscalerTolerance: number;
  horizontalPodAutoscalerCpuInitializationPeriod: number;
  horizontalPodAutoscalerInitialReadinessDelay: number;
}>();
for (const [flag, value] of [
  ['--node-monitor-grace-period', flags.nodeMonitorGracePeriod],
  ['--pod-eviction-timeout', flags.podEvictionTimeout],
  ['--horizontal-pod-autoscaler-sync-period', flags.horizontalPodAutoscalerSyncPeriod],
] as const) {
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`flotilla-controller-manager: ${flag} must be a positive number of seconds\n`);
    process.exit(2);
  }
}
for (const [flag, value] of [
  ['--concurrent-deployment-syncs', flags.concurrentDeploymentSyncs],
  ['--concurrent-replicaset-syncs', flags.concurrentReplicasetSyncs],
] as const) {
  if (!Number.isInteger(value) || value <= 0) {
    process.stderr.write(`flotilla-controller-manager: ${flag} must be a whole number above 0\n`);
    process.exit(2);
  }
}

for (const [flag, value] of [
  ['--horizontal-pod-autoscaler-tolerance', flags.horizontalPodAutoscalerTolerance],
  [
    '--horizontal-pod-autoscaler-cpu-initialization-period',
    flags.horizontalPodAutoscalerCpuInitializationPeriod,
  ],
  ['--horizontal-pod-autoscaler-initial-readiness-delay', flags.horizontalPodAutoscalerInitialReadinessDelay],
] as const) {
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`flotilla-controller-manager: ${flag} must be a number, 0 or more\n`);
    process.exit(2);
  }
}

const log = (message: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), component: 'controller-manager', message, ...fields })}\n`,
  );
};

const client = createClient(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {});
let collector: RunningGarbageCollector | undefined;
let nodeLifecycle: RunningNodeLifecycle | undefined;
let replicaSetController: RunningReplicaSetController | undefined;
let deploymentController: RunningDeploymentController | undefined;
let endpointsController: RunningEndpointsController | undefined;
let hpaController: RunningHpaController | undefined;

function startControllers(): void {
  collector = startGarbageCollector({ client, redisUrl: flags.redis, log });
  nodeLifecycle = startNodeLifecycleController({
    client,
    redisUrl: flags.redis,
    gracePeriodMs: flags.nodeMonitorGracePeriod * 1000,
    evictionTimeoutMs: flags.podEvictionTimeout * 1000,
    log,
  });
  replicaSetController = startReplicaSetController({
    client,
    redisUrl: flags.redis,
    concurrency: flags.concurrentReplicasetSyncs,
    log,
  });
  deploymentController = startDeploymentController({
    client,
    redisUrl: flags.redis,
    concurrency: flags.concurrentDeploymentSyncs,
    log,
  });
  endpointsController = startEndpointsController({ client, redisUrl: flags.redis, log });
  hpaController = startHpaController({
    client,
    redisUrl: flags.redis,
    syncPeriodMs: flags.horizontalPodAutoscalerSyncPeriod * 1000,
    tuning: {
      tolerance: flags.horizontalPodAutoscalerTolerance,
      cpuInitializationPeriodMs: flags.horizontalPodAutoscalerCpuInitializationPeriod * 1000,
      initialReadinessDelayMs: flags.horizontalPodAutoscalerInitialReadinessDelay * 1000,
    },
    log,
  });
  Promise.all([
    collector.ready,
    nodeLifecycle.ready,
    replicaSetController.ready,
    deploymentController.ready,
    endpointsController.ready,
    hpaController.ready,
  ]).then(
    () => log('controller-manager ready'),
    (error: unknown) => {
      log('controllers failed to start', { error: String(error) });
      process.exit(1);
    },
  );
}

const elector = flags.leaderElect
  ? startLeaderElection({
      client,
      namespace: 'kube-system',
      name: 'flotilla-controller-manager',
      identity: `${hostname()}_${process.pid}`,
      onStartedLeading: () => {
        log('became the leader');
        startControllers();
      },
      // A replica that lost the lease exits and comes back as a candidate, as kube-controller-manager.
      onStoppedLeading: () => {
        log('lost leadership');
        process.exit(1);
      },
      onError: (error) => log('leader election', { error: String(error) }),
    })
  : undefined;
if (!elector) startControllers();

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    Promise.all([
      elector?.stop(),
      collector?.stop(),
      nodeLifecycle?.stop(),
      replicaSetController?.stop(),
      deploymentController?.stop(),
      endpointsController?.stop(),
      hpaController?.stop(),
    ]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
