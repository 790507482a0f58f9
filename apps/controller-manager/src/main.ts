// flotilla-controller-manager: wiring only. Controllers live in libs/controllers; replicas elect one
// leader through a Lease so that only one acts at a time.
import { hostname } from 'node:os';
import { createClient, startLeaderElection } from '@flotilla/client';
import { startGarbageCollector, type RunningGarbageCollector } from '@flotilla/controllers';
import { Command } from 'commander';

const program = new Command('flotilla-controller-manager')
  .description('Runs the cluster controllers: garbage collection by ownerReferences (more to come)')
  .option(
    '--kubeconfig <file>',
    'kubeconfig to reach the apiserver (default: $KUBECONFIG or ~/.flotilla/kubeconfig)',
  )
  .requiredOption('--redis <url>', 'Redis URL for the work queues, e.g. redis://127.0.0.1:16379')
  .option('--no-leader-elect', 'run without electing a leader (only safe with a single replica)');

program.parse();
const flags = program.opts<{ kubeconfig?: string; redis: string; leaderElect: boolean }>();

const log = (message: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), component: 'controller-manager', message, ...fields })}\n`,
  );
};

const client = createClient(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {});
let collector: RunningGarbageCollector | undefined;

function startControllers(): void {
  collector = startGarbageCollector({ client, redisUrl: flags.redis, log });
  collector.ready.then(
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
    Promise.all([elector?.stop(), collector?.stop()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
