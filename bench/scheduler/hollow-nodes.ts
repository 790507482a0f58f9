// Many hollow nodes in one process, for bench/scheduler (kubemark runs its hollow kubelets many to a
// machine too). Each is a HollowNode of @flotilla/node-agent: its own client certificate, its own
// gRPC channel and Connect stream to the apiserver, a fake runtime behind it.
//
//   node dist/bench/scheduler/hollow-nodes.js --apiserver 127.0.0.1:PORT --ca-file CA --ca-key-file KEY
//     --dir DIR [--nodes 1000] [--prefix hollow-] [--start-delay-ms 5] [--register-concurrency 32]
//     [--heartbeat-interval-seconds N (default: the apiserver's)]
//
// Progress goes to stdout as one JSON object per line ({"event": "certificates" | "registered" |
// "connected" | "held", ...}); logs go to stderr. SIGUSR2 prints the pods every hollow engine holds
// ("held"); SIGTERM closes every stream and exits.
import { availableParallelism } from 'node:os';
import { HollowNode, issueHollowNodeCertificates } from '@flotilla/node-agent';
import pino from 'pino';

function text(name: string): string {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  if (!value) throw new Error(`--${name} is required (see the usage at the top of hollow-nodes.ts)`);
  return value;
}

function count(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`--${name} wants a whole number, not ${process.argv[index + 1]}`);
  return value;
}

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function inBatches(
  items: readonly HollowNode[],
  concurrency: number,
  each: (node: HollowNode) => Promise<void>,
): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) {
      const item = items[index];
      if (item) await each(item).catch(() => failed++);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return failed;
}

async function main(): Promise<void> {
  const apiserver = text('apiserver');
  const nodeCount = count('nodes', 1000);
  const prefix = process.argv.includes('--prefix') ? text('prefix') : 'hollow-';
  const startDelayMs = count('start-delay-ms', 5);
  const registerConcurrency = Math.max(1, count('register-concurrency', 32));
  const heartbeatIntervalSeconds = count('heartbeat-interval-seconds', 0);
  const logger = pino({ level: process.env['FLOTILLA_HOLLOW_LOG'] ?? 'warn' }, pino.destination(2));
  const names = Array.from({ length: nodeCount }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

  let started = performance.now();
  const certificates = await issueHollowNodeCertificates({
    dir: text('dir'),
    caCertFile: text('ca-file'),
    caKeyFile: text('ca-key-file'),
    nodeNames: names,
    concurrency: availableParallelism() * 2,
  });
  emit({ event: 'certificates', count: certificates.size, seconds: (performance.now() - started) / 1000 });

  const nodes = names.map((name, i) => {
    const tls = certificates.get(name);
    if (!tls) throw new Error(`no certificate was issued for ${name}`);
    return new HollowNode({
      name,
      apiserver,
      tls,
      // Never dialled: hollow nodes serve no logs or exec. 10.200/16 keeps clear of the pod ranges.
      address: `10.200.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      logger,
      startDelayMs,
      stopDelayMs: startDelayMs,
      ...(heartbeatIntervalSeconds > 0 ? { heartbeatIntervalMs: heartbeatIntervalSeconds * 1000 } : {}),
    });
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void Promise.all(nodes.map((node) => node.close())).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // What the hollow engines hold (kill -USR2): pods the API shows stuck but no engine holds never
  // reached their node's stream.
  process.on('SIGUSR2', () => {
    const pods: Record<string, string> = {};
    for (const node of nodes) {
      for (const report of node.pods?.currentStatuses() ?? []) pods[report.name] = report.status.phase ?? '';
    }
    emit({ event: 'held', connected: nodes.filter((node) => node.connected).length, pods });
  });

  started = performance.now();
  const failed = await inBatches(nodes, registerConcurrency, (node) => node.register());
  emit({
    event: 'registered',
    count: nodeCount - failed,
    failed,
    seconds: (performance.now() - started) / 1000,
  });

  started = performance.now();
  for (const node of nodes) if (node.pods) node.connect();
  await new Promise<void>((resolve) => {
    const poll = (): void => {
      if (nodes.every((node) => !node.pods || node.connected)) resolve();
      else setTimeout(poll, 50);
    };
    poll();
  });
  emit({
    event: 'connected',
    count: nodes.filter((node) => node.connected).length,
    seconds: (performance.now() - started) / 1000,
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `hollow-nodes: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
