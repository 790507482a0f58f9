// Bookkeeping shared by the network test files: each run records its pid and network in a marker,
// and every run first removes what runs that died without cleaning up left behind (DESIGN §9), so a
// reused machine never fails on yesterday's bridges, namespaces or rules.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BridgeNetwork, ServiceProxy, type BridgeNetworkOptions } from '@flotilla/runtime';

const MARKERS = '/run/flotilla-test-network';

interface RunMarker {
  pid: number;
  /** Every namespace whose name contains it belongs to the run. */
  runId: string;
  options: BridgeNetworkOptions;
  /** Service proxy tables (nftables) or chain prefixes (iptables) the run programs. */
  serviceTables?: string[];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the network integration tests create namespaces, veths, routes and nftables rules and must run as root',
    );
  }
}

/** Kills what still runs inside a named namespace, then deletes it. */
export function deleteNamespaceWithProcesses(name: string): void {
  const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
  execFileSync('ip', ['netns', 'delete', name]);
}

async function sweepCrashedRuns(): Promise<void> {
  for (const file of await readdir(MARKERS).catch(() => [])) {
    const path = join(MARKERS, file);
    const marker = JSON.parse(await readFile(path, 'utf8')) as RunMarker;
    if (isAlive(marker.pid)) continue;
    const namespaces = await readdir('/var/run/netns').catch(() => []);
    for (const name of namespaces.filter((entry) => entry.includes(marker.runId))) {
      deleteNamespaceWithProcesses(name);
    }
    await new BridgeNetwork(marker.options).remove();
    for (const table of marker.serviceTables ?? []) {
      await new ServiceProxy({ table, firewall: 'nftables' }).remove();
      await new ServiceProxy({ table, firewall: 'iptables' }).remove();
    }
    if (marker.options.stateDir) await rm(marker.options.stateDir, { recursive: true, force: true });
    await rm(path, { force: true });
  }
}

/**
 * Sweeps dead runs, then records this one; call the returned function when the run has cleaned up.
 * The marker key must be unique per network (a run with two networks registers twice).
 */
export async function registerRun(
  key: string,
  runId: string,
  options: BridgeNetworkOptions,
  serviceTables: string[] = [],
): Promise<() => Promise<void>> {
  await sweepCrashedRuns();
  await mkdir(MARKERS, { recursive: true });
  const marker: RunMarker = { pid: process.pid, runId, options, serviceTables };
  const path = join(MARKERS, `${key}.json`);
  await writeFile(path, JSON.stringify(marker));
  return () => rm(path, { force: true });
}
