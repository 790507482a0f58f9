// One long-lived ip -batch process shared by many requests (IpBatchSession): each request learns
// exactly which of its own lines failed, requests in flight at once stay apart, and an idle session
// ends its ip and starts another on the next request. Real ip on this machine, in namespaces named
// after the run and removed at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { IpBatchSession } from '@flotilla/runtime';
import { deleteNamespaceWithProcesses, requireRoot } from './network-runs';

const runId = randomBytes(4).toString('hex');
const first = `flib-${runId}-a`;
const second = `flib-${runId}-b`;

function addressesIn(namespace: string): string {
  return execFileSync('ip', ['-n', namespace, '-o', 'addr', 'show'], { encoding: 'utf8' });
}

/** Pids of ip processes this test process started (pgrep exits 1 when there are none). */
function ipChildren(): string {
  return spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ip'], { encoding: 'utf8' }).stdout.trim();
}

describe('IpBatchSession on real ip', () => {
  beforeAll(() => requireRoot());

  afterAll(() => {
    const existing = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const name of [first, second]) {
      if (existing.includes(name)) deleteNamespaceWithProcesses(name);
    }
  });

  it('runs requests in flight at once, each told only about its own failed lines', async () => {
    const session = new IpBatchSession();
    try {
      const [made, broken, other] = await Promise.all([
        session.run([
          `netns add ${first}`,
          `netns exec ${first} ip link set lo up`,
          `netns exec ${first} ip addr add 10.251.0.1/32 dev lo`,
        ]),
        session.run(['link show dev nosuchdev0', `link show dev lo`]),
        session.run([`netns add ${second}`]),
      ]);
      expect(made.errors).toEqual([]);
      expect(broken.errors).toEqual(['Device "nosuchdev0" does not exist.']);
      expect(other.errors).toEqual([]);
      expect(addressesIn(first)).toContain('10.251.0.1/32');
      await expect(session.runChecked('adding it again', [`netns add ${first}`])).rejects.toThrow(
        /adding it again failed: ip said: .*File exists/,
      );
    } finally {
      session.close();
    }
  });

  it('refuses a line that is not one command, without running anything', async () => {
    const session = new IpBatchSession();
    try {
      await expect(session.run([`netns delete ${second}\nnetns add ${second}`])).rejects.toThrow(
        /one non-empty command/,
      );
      await expect(session.run([''])).rejects.toThrow(/one non-empty command/);
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).toContain(second);
    } finally {
      session.close();
    }
  });

  it('ends its ip when idle and starts a new one for the next request', async () => {
    const session = new IpBatchSession({ idleMs: 50 });
    try {
      expect((await session.run([`netns exec ${second} ip link set lo up`])).errors).toEqual([]);
      // No ip of ours is left running once the session has been idle past idleMs.
      let children = ipChildren();
      for (let waited = 0; children !== '' && waited < 5000; waited += 50) {
        await sleep(50);
        children = ipChildren();
      }
      expect(children).toBe('');
      expect((await session.run([`netns exec ${second} ip addr add 10.251.0.2/32 dev lo`])).errors).toEqual(
        [],
      );
      expect(addressesIn(second)).toContain('10.251.0.2/32');
    } finally {
      session.close();
    }
  });
});
