// A bridge attach as the node agent does one per pod: hrtime around BridgeNetwork.attach, one at a time
// and in a burst (33 at once: one node's share of bench/pod-startup), with this process's CPU and
// event-loop delay during the burst. The namespace side is also timed both ways in the same run, on
// namespaces made alike: the resident shim launcher's `net` request (what attach uses) against
// `ip netns exec NS ip -batch FILE` (what it used before: a fork and exec of ip per namespace).
// Everything runs on a bridge and namespaces of its own, removed at the end. Needs root.
//
//   node dist/bench/network-attach/network-attach.bench.js [--attaches 20] [--burst 33] [--ip-processes 1]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BridgeNetwork, IpBatchSession, locateShimBinary, ResidentShimLauncher } from '@flotilla/runtime';
import { benchOptions } from '../support/bench-options';
import { median, percentile, round } from '../support/stats';

const options = benchOptions({
  command: 'node dist/bench/network-attach/network-attach.bench.js',
  summary:
    "A pod's bridge attach one at a time and in a burst, and the namespace step the resident shim\n" +
    'launcher way against `ip netns exec NS ip -batch` in the same run. Needs root.',
  options: {
    attaches: { kind: 'number', default: 20, help: 'attaches timed one at a time' },
    burst: { kind: 'number', default: 33, help: "attaches at once (one node's share of bench/pod-startup)" },
    'ip-processes': { kind: 'number', default: 1, help: 'kept `ip -batch` processes for the host side' },
  },
});
const attaches = Math.floor(options.attaches);
const burst = Math.floor(options.burst);
const ipProcesses = Math.floor(options['ip-processes']);

function since(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function summary(values: number[]): { p50Ms: number; p90Ms: number; minMs: number; maxMs: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50Ms: round(median(sorted)),
    p90Ms: round(percentile(sorted, 0.9)),
    minMs: round(sorted[0] ?? 0),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
  };
}

/** The namespace side alone, both ways, each on namespaces and veths made alike by one kept ip. */
async function namespaceSide(
  run: string,
  stateDir: string,
): Promise<{ launcher: number[]; netnsExec: number[] }> {
  const session = new IpBatchSession();
  const launcher = new ResidentShimLauncher(locateShimBinary());
  const launcherTimes: number[] = [];
  const execTimes: number[] = [];
  const made: string[] = [];
  try {
    for (let i = 0; i < attaches; i++) {
      for (const way of ['l', 'e'] as const) {
        const namespace = `flotilla-bench-${run}-${way}${i}`;
        made.push(namespace);
        await session.runChecked('making a namespace', [
          `netns add ${namespace}`,
          `link add name fbv${way}${i}${run.slice(0, 6)} type veth peer name eth0 netns ${namespace}`,
        ]);
        const address = `10.241.${i % 250}.2`;
        const start = process.hrtime.bigint();
        if (way === 'l') {
          await launcher.configureInterface({
            namespacePath: `/var/run/netns/${namespace}`,
            device: 'eth0',
            address,
            prefixLength: 24,
            gateway: `10.241.${i % 250}.1`,
          });
          launcherTimes.push(since(start));
        } else {
          const file = join(stateDir, `${namespace}.ip-batch`);
          writeFileSync(
            file,
            `link set lo up\naddr add ${address}/24 dev eth0\nlink set eth0 up\nroute add default via 10.241.${i % 250}.1 dev eth0\n`,
          );
          const timed = process.hrtime.bigint();
          await session.runChecked('netns exec', [`netns exec ${namespace} ip -batch ${file}`]);
          execTimes.push(since(timed));
        }
      }
    }
  } finally {
    // Deleting a namespace deletes the veth end inside it, and with it the pair.
    await session.run(made.map((namespace) => `netns delete ${namespace}`));
    session.close();
  }
  return { launcher: launcherTimes, netnsExec: execTimes };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error('bench/network-attach makes namespaces and veths: run it as root');
  const run = randomBytes(4).toString('hex');
  const stateDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-network-attach-'));
  const network = new BridgeNetwork({
    name: `bench${run}`,
    bridge: `flb${run}`,
    table: `flotilla_bench${run}`,
    subnet: `10.240.${(randomBytes(1)[0] ?? 0) % 250}.0/24`,
    stateDir,
    persistentIp: true,
    ipProcesses,
  });
  try {
    await network.ensure();
    // The first attach starts the kept processes; it is not measured.
    await network.attach({ containerId: `warm-${run}` });
    await network.detach(`warm-${run}`);
    const sequential: number[] = [];
    for (let i = 0; i < attaches; i++) {
      const start = process.hrtime.bigint();
      await network.attach({ containerId: `s${i}-${run}` });
      sequential.push(since(start));
    }
    for (let i = 0; i < attaches; i++) await network.detach(`s${i}-${run}`);

    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const cpuBefore = process.cpuUsage();
    const burstStart = process.hrtime.bigint();
    const concurrent = await Promise.all(
      Array.from({ length: burst }, async (_, i) => {
        const start = process.hrtime.bigint();
        await network.attach({ containerId: `b${i}-${run}` });
        return since(start);
      }),
    );
    const burstMs = since(burstStart);
    const cpu = process.cpuUsage(cpuBefore);
    delay.disable();
    for (let i = 0; i < burst; i++) await network.detach(`b${i}-${run}`);

    const side = await namespaceSide(run, stateDir);
    const launcherMedian = median([...side.launcher].sort((a, b) => a - b));
    const execMedian = median([...side.netnsExec].sort((a, b) => a - b));
    process.stdout.write(
      JSON.stringify(
        {
          benchmark: 'network-attach',
          measure: 'BridgeNetwork.attach in bridge mode, hrtime in this process',
          ipProcesses,
          oneAtATime: { attaches, ...summary(sequential) },
          burst: {
            attaches: burst,
            allDoneMs: round(burstMs),
            each: summary(concurrent),
            cpuMsPerAttach: round((cpu.user + cpu.system) / 1000 / burst),
            eventLoopDelayMaxMs: round(delay.max / 1e6),
          },
          namespaceSide: {
            launcherNetRequest: summary(side.launcher),
            ipNetnsExec: summary(side.netnsExec),
            ratioLauncherToNetnsExec: round(launcherMedian / execMedian),
          },
          loadAverage: loadavg().map(round),
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await network.remove();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/network-attach: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
