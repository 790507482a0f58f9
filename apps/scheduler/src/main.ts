// flotilla-scheduler: wiring only; the framework and the control loop live in libs/scheduler.
import { createClient } from '@flotilla/client';
import { DEFAULT_SCHEDULER_NAME, SCHEDULER_API_CONNECTIONS, startScheduler } from '@flotilla/scheduler';
import { hostname } from 'node:os';
import { Command } from 'commander';

const program = new Command('flotilla-scheduler')
  .description('Places pending pods on nodes by their cgroup capacity and binds them through the API')
  .option(
    '--kubeconfig <file>',
    'kubeconfig to reach the apiserver (default: $KUBECONFIG or ~/.flotilla/kubeconfig)',
  )
  .requiredOption('--redis <url>', 'Redis URL for the work queue, e.g. redis://127.0.0.1:16379')
  .option(
    '--scheduler-name <name>',
    'schedule pods whose spec.schedulerName is this',
    DEFAULT_SCHEDULER_NAME,
  );

program.parse();
const flags = program.opts<{
  kubeconfig?: string;
  redis: string;
  schedulerName: string;
  leaderElect: boolean;
}>();

const log = (message: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), component: 'scheduler', message, ...fields })}\n`,
  );
};

const scheduler = startScheduler({
  client: createClient({
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    maxRequestSockets: SCHEDULER_API_CONNECTIONS,
  }),
  redisUrl: flags.redis,
  schedulerName: flags.schedulerName,
  ...(flags.leaderElect
    ? {
        leaderElection: {
          namespace: 'kube-system',
          name: flags.schedulerName,
          identity: `${hostname()}_${process.pid}`,
        },
        // As kube-scheduler: a replica that lost the lease exits and is restarted as a candidate.
        onLostLeadership: () => process.exit(1),
      }
    : {}),
  log,
});
scheduler.ready.then(
  () => log('scheduler ready'),
  (error: unknown) => {
    log('scheduler failed to start', { error: String(error) });
    process.exit(1);
  },
);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    scheduler.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
