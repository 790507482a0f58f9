// Create + start + wait of /bin/true from a busybox root, ours against `crun run` and `runc run` on
// the same root filesystem in the same run, rounds interleaved so machine noise hits all three alike.
// Prints JSON with medians and ratios; the target is ours no slower than crun (ratio_vs_crun <= 1).
//
//   node dist/bench/container-start/container-start.bench.js [--runs 40]
//
// crun refuses this machine's hybrid cgroups ("cgroups in hybrid mode not supported"), so it runs in
// a private mount namespace where an empty file hides /sys/fs/cgroup/unified/cgroup.controllers;
// `nsenter` into that namespace adds one exec to each crun run (about a millisecond), which the
// report names. runc runs as installed. `crun run` and `runc run` also delete their cgroup and state
// before they return, so besides create + start + wait the report gives ours with the removal
// (cgroup, overlay dirs, container directory) added and its ratio to crun too.
// FLOTILLA_SHIM_TRACE=FILE makes each shim append timestamps of its steps (native/shim/util.c).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  chmodSync,
  copyFileSync,
  mkdirSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerManager, containerCgroupsFrom, createCgroupManager } from '@flotilla/runtime';
import { benchOptions } from '../support/bench-options';
import { median, percentile, round } from '../support/stats';

const runs = benchOptions({
  command: 'node dist/bench/container-start/container-start.bench.js',
  summary:
    'Create + start + wait of /bin/true, ours against `crun run` and `runc run` on the same root\n' +
    'filesystem in the same run (target: no slower than crun). Needs root.',
  options: { runs: { kind: 'number', default: 40, help: 'interleaved rounds of the three runtimes' } },
}).runs;
const HYBRID_CONTROLLERS = '/sys/fs/cgroup/unified/cgroup.controllers';

function makeRootfs(dir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  for (const applet of ['sh', 'true']) symlinkSync('busybox', join(dir, 'bin', applet));
  for (const sub of ['proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
}

function which(program: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** An OCI bundle for crun/runc: their own `spec`, running /bin/true on the shared read-only root. */
function makeBundle(runtime: string, dir: string, rootfs: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync(runtime, ['spec'], { cwd: dir });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
    process: { args: string[]; terminal: boolean };
    root: { path: string; readonly: boolean };
  };
  config.process.args = ['/bin/true'];
  config.process.terminal = false;
  config.root = { path: rootfs, readonly: true };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
}

function runProcess(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim()}`)),
    );
  });
}

async function timed(work: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function summary(samples: number[]): { median_ms: number; p90_ms: number; min_ms: number; runs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median_ms: round(median(samples)),
    p90_ms: round(percentile(sorted, 0.9)),
    min_ms: round(sorted[0] ?? 0),
    runs: samples.length,
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error('the container-start benchmark needs root (namespaces, mounts, cgroups)');
  const work = mkdtempSync(join(tmpdir(), 'flotilla-bench-start-'));
  const rootfs = join(work, 'rootfs');
  makeRootfs(rootfs);
  const cgroupParent = `flotilla-bench-${process.pid}`;
  const cgroups = await createCgroupManager();
  const manager = new ContainerManager({
    stateDir: join(work, 'state'),
    cgroups: containerCgroupsFrom(cgroups, { parent: cgroupParent }),
  });
  const crun = which('crun');
  const runc = which('runc');
  let crunNamespace: ChildProcess | undefined;
  const samples: Record<'flotilla' | 'crun' | 'runc', number[]> = { flotilla: [], crun: [], runc: [] };
  const removal: number[] = [];
  const withRemoval: number[] = [];
  try {
    const crunPrefix: string[] = [];
    if (crun) {
      makeBundle(crun, join(work, 'crun'), rootfs);
      if (existsSync(HYBRID_CONTROLLERS)) {
        const empty = join(work, 'empty-controllers');
        writeFileSync(empty, '');
        crunNamespace = spawn(
          'unshare',
          [
            '--mount',
            '--propagation',
            'private',
            'sh',
            '-c',
            `mount --bind ${empty} ${HYBRID_CONTROLLERS} && echo ready && exec sleep infinity`,
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        await new Promise<void>((resolve, reject) => {
          crunNamespace?.stdout?.once('data', () => resolve());
          crunNamespace?.once('exit', (code) =>
            reject(new Error(`preparing crun's mount namespace failed (${code})`)),
          );
        });
        crunPrefix.push('-t', String(crunNamespace.pid), '-m');
      }
    }
    if (runc) makeBundle(runc, join(work, 'runc'), rootfs);

    for (let round = 0; round < runs + 3; round++) {
      const warmup = round < 3;
      let id = '';
      const ours = await timed(async () => {
        const info = await manager.create({ rootfsDir: rootfs, network: 'none', command: ['/bin/true'] });
        id = info.id;
        await manager.start(id);
        const exit = await manager.wait(id);
        if (exit.exitCode !== 0) throw new Error(`our /bin/true exited ${exit.exitCode}`);
      });
      const removed = await timed(() => manager.remove(id));
      if (!warmup) withRemoval.push(ours + removed);
      if (crun) {
        const name = `flotilla-bench-crun-${process.pid}-${round}`;
        const bundle = join(work, 'crun');
        const took = await timed(() =>
          crunPrefix.length > 0
            ? runProcess('nsenter', [...crunPrefix, crun, 'run', '-b', bundle, name])
            : runProcess(crun, ['run', '-b', bundle, name]),
        );
        if (!warmup) samples.crun.push(took);
      }
      if (runc) {
        const name = `flotilla-bench-runc-${process.pid}-${round}`;
        const took = await timed(() => runProcess(runc, ['run', '-b', join(work, 'runc'), name]));
        if (!warmup) samples.runc.push(took);
      }
      if (!warmup) {
        samples.flotilla.push(ours);
        removal.push(removed);
      }
    }
  } finally {
    crunNamespace?.kill('SIGKILL');
    if (await cgroups.exists(cgroupParent)) await (await cgroups.open(cgroupParent)).destroy();
    rmSync(work, { recursive: true, force: true });
  }

  const ours = summary(samples.flotilla);
  const result: Record<string, unknown> = {
    benchmark: 'container-start',
    workload: 'create + start + wait of /bin/true, busybox root, no network (new netns), own cgroup',
    flotilla: {
      ...ours,
      remove_median_ms: round(median(removal)),
      with_remove_median_ms: round(median(withRemoval)),
    },
  };
  if (samples.crun.length > 0) {
    const crunSummary = summary(samples.crun);
    result['crun'] = {
      ...crunSummary,
      note: existsSync(HYBRID_CONTROLLERS) ? 'run through nsenter (hybrid-cgroup workaround)' : 'direct',
    };
    result['ratio_vs_crun'] = round(ours.median_ms / crunSummary.median_ms);
    result['ratio_vs_crun_with_remove'] = round(median(withRemoval) / crunSummary.median_ms);
    result['target_met'] = ours.median_ms <= crunSummary.median_ms;
  } else {
    result['crun'] = 'not installed: run scripts/setup.sh';
  }
  if (samples.runc.length > 0) {
    const runcSummary = summary(samples.runc);
    result['runc'] = runcSummary;
    result['ratio_vs_runc'] = round(ours.median_ms / runcSummary.median_ms);
  } else {
    result['runc'] = 'not installed: run scripts/setup.sh';
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`container-start bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
