import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hostCgroupSystem } from '@flotilla/runtime';
import { parseEvictionHard } from './eviction-threshold.util';
import { NodePressureMonitor } from './node-pressure.monitor';
import { PressureSignalsReader } from './pressure-signals.reader';

const Mi = 1024 * 1024;
let dir: string;

function write(path: string, text: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
}

function reader(version: 'v1' | 'v2'): PressureSignalsReader {
  return new PressureSignalsReader({
    stateDir: dir,
    cgroupRoot: join(dir, 'cgroup'),
    system: hostCgroupSystem,
    version,
    procDir: join(dir, 'proc'),
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pressure-signals-'));
  write('proc/meminfo', 'MemTotal:       8000000 kB\nMemFree:  100 kB\nMemAvailable:   6000000 kB\n');
  write('proc/sys/kernel/pid_max', '32768\n');
  write('proc/loadavg', '0.50 0.40 0.30 2/700 12345\n');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('PressureSignalsReader', () => {
  it('v1: memory from the tightest limited ancestor, pids from its pids cgroup', async () => {
    write('proc/self/cgroup', '9:pids:/node/agent\n5:memory:/node/agent\n0::/\n');
    // The agent's own cgroup has no limit; its parent (the node) has 512Mi, the root none.
    write('cgroup/memory/node/agent/memory.limit_in_bytes', '9223372036854771712\n');
    write('cgroup/memory/node/agent/memory.usage_in_bytes', `${100 * Mi}\n`);
    write('cgroup/memory/node/memory.limit_in_bytes', `${512 * Mi}\n`);
    write('cgroup/memory/node/memory.usage_in_bytes', `${450 * Mi}\n`);
    write('cgroup/memory/node/memory.stat', `cache 1\ninactive_file 7\ntotal_inactive_file ${50 * Mi}\n`);
    write('cgroup/memory/memory.limit_in_bytes', '9223372036854771712\n');
    write('cgroup/pids/node/agent/pids.max', 'max\n');
    write('cgroup/pids/node/agent/pids.current', '20\n');
    write('cgroup/pids/node/pids.max', '1000\n');
    write('cgroup/pids/node/pids.current', '980\n');
    const observations = await reader('v1').read();
    expect(observations['memory.available']).toEqual({ available: 112 * Mi, capacity: 512 * Mi });
    expect(observations['pid.available']).toEqual({ available: 20, capacity: 1000 });
    expect(observations['nodefs.available']?.capacity).toBeGreaterThan(0);
    expect(observations['imagefs.available']).toEqual(observations['nodefs.available']);
  });

  it('v2: memory.max and inactive_file; pids fall back to pid_max minus all threads', async () => {
    write('proc/self/cgroup', '0::/node\n');
    write('cgroup/node/memory.max', `${256 * Mi}\n`);
    write('cgroup/node/memory.current', `${200 * Mi}\n`);
    write('cgroup/node/memory.stat', `anon 5\nactive_file 9\ninactive_file ${40 * Mi}\n`);
    write('cgroup/node/pids.max', 'max\n');
    write('cgroup/node/pids.current', '3\n');
    const observations = await reader('v2').read();
    expect(observations['memory.available']).toEqual({ available: 96 * Mi, capacity: 256 * Mi });
    expect(observations['pid.available']).toEqual({ available: 32768 - 700, capacity: 32768 });
  });

  it('no memory limit anywhere: the host MemAvailable of MemTotal', async () => {
    write('proc/self/cgroup', '0::/\n');
    write('cgroup/memory.max', 'max\n');
    const observations = await reader('v2').read();
    expect(observations['memory.available']).toEqual({
      available: 6_000_000 * 1024,
      capacity: 8_000_000 * 1024,
    });
  });
});

describe('NodePressureMonitor', () => {
  it('turns MemoryPressure True while the signal is under its threshold, then back', async () => {
    let available = 300 * Mi;
    const logged: string[] = [];
    const monitor = new NodePressureMonitor({
      reader: { read: () => Promise.resolve({ 'memory.available': { available, capacity: 512 * Mi } }) },
      thresholds: parseEvictionHard('memory.available<200Mi'),
      transitionPeriodMs: 0,
      log: (message) => logged.push(message),
    });
    const memoryStatus = (): string | undefined =>
      monitor.conditions().find((condition) => condition.type === 'MemoryPressure')?.status;
    await monitor.sample();
    expect(memoryStatus()).toBe('False');
    available = 150 * Mi;
    await monitor.sample();
    expect(memoryStatus()).toBe('True');
    available = 300 * Mi;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await monitor.sample();
    expect(memoryStatus()).toBe('False');
    expect(logged).toEqual([
      'node condition MemoryPressure is now True',
      'node condition MemoryPressure is now False',
    ]);
    await monitor.stop();
  });

  it('keeps the last conditions when a read fails, and says so', async () => {
    const logged: string[] = [];
    const monitor = new NodePressureMonitor({
      reader: { read: () => Promise.reject(new Error('EACCES')) },
      thresholds: parseEvictionHard('memory.available<200Mi'),
      log: (message) => logged.push(message),
    });
    await monitor.sample();
    expect(monitor.conditions().map((condition) => condition.status)).toEqual(['False', 'False', 'False']);
    expect(logged).toEqual(['could not read the eviction signals; keeping the last pressure conditions']);
  });
});
