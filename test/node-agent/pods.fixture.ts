// What the pod engine tests share: a node of their own (state dir, bridge, pod CIDR, firewall table,
// cgroup parent, all named from a run id), the offline base image loaded into it, Pod objects, and
// waiting on reported statuses. Everything is removed at the end, and what a crashed run left behind
// is swept first.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerStatus, Pod, PodSpec } from '@flotilla/api';
import {
  createNodePods,
  type NodePods,
  type NodePodsOptions,
  type PodStatusReport,
} from '@flotilla/node-agent';
import {
  BridgeNetwork,
  ContainerManager,
  createCgroupManager,
  ImageStore,
  loadImageArchive,
} from '@flotilla/runtime';
import { claimTestDir } from '../support/leftovers';

export const IMAGE = 'flotilla/busybox:latest';
const MARKERS = '/run/flotilla-test-pods';

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the pod engine tests create network namespaces, bridges, cgroups and overlay mounts: run them as root (CI does)',
    );
  }
}

export interface TestNode {
  runId: string;
  dir: string;
  options: NodePodsOptions;
  engine: NodePods;
  /** Every report any engine of this node emitted, in order. */
  reports: PodStatusReport[];
  /** What the engines logged (problems they could not put in a pod's status). */
  logs: string[];
  /** Makes a new engine on the same state dir (after close()), as an agent restart does. */
  restart(): Promise<NodePods>;
  pod(name: string, spec: Omit<PodSpec, 'nodeName'>, extra?: Partial<Pod['metadata']>): Pod;
  cleanup(): Promise<void>;
}

interface Marker {
  pid: number;
  dir: string;
  bridge: string;
  table: string;
  podCidr: string;
  cgroupParent: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function removeNode(marker: Marker): Promise<void> {
  const stateDir = join(marker.dir, 'state');
  if (existsSync(stateDir)) {
    const manager = new ContainerManager({ stateDir });
    for (const info of await manager.list({ all: true }).catch(() => [])) {
      await manager.remove(info.id, { force: true }).catch(() => undefined);
    }
  }
  await new BridgeNetwork({
    stateDir,
    name: marker.bridge,
    bridge: marker.bridge,
    table: marker.table,
    subnet: marker.podCidr,
  })
    .remove()
    .catch(() => undefined);
  const cgroups = await createCgroupManager();
  if (await cgroups.exists(marker.cgroupParent)) await (await cgroups.open(marker.cgroupParent)).destroy();
  // tmpfs emptyDirs of pods that were never released
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const target = line.split(' ')[4];
    if (target?.startsWith(`${marker.dir}/`)) {
      try {
        execFileSync('umount', ['-l', target]);
      } catch {
        // already gone
      }
    }
  }
  rmSync(marker.dir, { recursive: true, force: true });
}

async function sweepCrashedRuns(): Promise<void> {
  mkdirSync(MARKERS, { recursive: true });
  for (const file of readdirSync(MARKERS)) {
    const marker = JSON.parse(readFileSync(join(MARKERS, file), 'utf8')) as Marker;
    if (alive(marker.pid)) continue;
    await removeNode(marker);
    rmSync(join(MARKERS, file), { force: true });
  }
}

/** A node for one test file; `slot` keeps the pod CIDRs of files running side by side apart. */
export async function startTestNode(
  slot: number,
  overrides: Partial<NodePodsOptions> = {},
): Promise<TestNode> {
  requireRoot();
  await sweepCrashedRuns();
  const runId = `${process.pid.toString(36)}${slot}`;
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-pods-'));
  claimTestDir(dir);
  const stateDir = join(dir, 'state');
  const bridge = `fp${runId}`.slice(0, 15);
  const table = `flotilla_p${runId}`;
  const podCidr = `10.${220 + slot}.${process.pid % 250}.0/24`;
  const cgroupParent = `flotilla-test-pods-${runId}`;
  const marker: Marker = { pid: process.pid, dir, bridge, table, podCidr, cgroupParent };
  const markerFile = join(MARKERS, `${runId}.json`);
  writeFileSync(markerFile, JSON.stringify(marker));

  const archive = execFileSync(
    'bash',
    [join(__dirname, '..', '..', 'scripts', 'base-image.sh'), '--print-path'],
    {
      encoding: 'utf8',
    },
  ).trim();
  await loadImageArchive(new ImageStore({ stateDir }), archive);

  const logs: string[] = [];
  const options: NodePodsOptions = {
    nodeName: `node-${runId}`,
    stateDir,
    podCidr,
    bridgeName: bridge,
    firewallTable: table,
    cgroupParent,
    nodeIP: '127.0.0.1',
    resyncIntervalMs: 1000,
    log: (message) => logs.push(message),
    ...overrides,
  };
  const reports: PodStatusReport[] = [];
  const track = (engine: NodePods): NodePods => {
    engine.onStatus((report) => reports.push(report));
    return engine;
  };
  const node: TestNode = {
    runId,
    dir,
    options,
    engine: track(await createNodePods(options)),
    reports,
    logs,
    async restart() {
      node.engine = track(await createNodePods(options));
      return node.engine;
    },
    pod(name, spec, extra = {}) {
      return {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default', uid: `${runId}-${name}`, ...extra },
        spec: { ...spec, nodeName: options.nodeName },
      };
    },
    async cleanup() {
      node.engine.replaceDesired([]);
      await until('every pod released', () => node.engine.currentStatuses().length === 0, 60_000).catch(
        () => undefined,
      );
      await node.engine.close();
      await removeNode(marker);
      rmSync(markerFile, { force: true });
    },
  };
  return node;
}

export async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The latest report of the pod from this node's engine. */
export function latest(node: TestNode, uid: string): PodStatusReport | undefined {
  return node.engine.currentStatuses().find((report) => report.uid === uid);
}

/** Waits until the pod's latest report satisfies check; returns it. */
export async function waitForPod(
  node: TestNode,
  pod: Pod,
  what: string,
  check: (report: PodStatusReport) => boolean,
  timeoutMs = 30_000,
): Promise<PodStatusReport> {
  const uid = pod.metadata.uid ?? '';
  let found: PodStatusReport | undefined;
  await until(
    `${pod.metadata.name}: ${what} (last status: ${JSON.stringify(latest(node, uid)?.status)})`,
    () => {
      found = latest(node, uid);
      return found !== undefined && check(found);
    },
    timeoutMs,
  );
  return found as PodStatusReport;
}

export function containerStatus(report: PodStatusReport, name: string): ContainerStatus | undefined {
  return [...(report.status.containerStatuses ?? []), ...(report.status.initContainerStatuses ?? [])].find(
    (status) => status.name === name,
  );
}

export function condition(report: PodStatusReport, type: string): string | undefined {
  return report.status.conditions?.find((entry) => entry.type === type)?.status;
}

/** Reads a whole stream into a string. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

/** Runs a command in a pod's container and returns its output and exit code. */
export async function execIn(
  node: TestNode,
  pod: Pod,
  container: string,
  command: string[],
): Promise<{ output: string; exitCode: number }> {
  const session = await node.engine.exec({
    namespace: pod.metadata.namespace ?? 'default',
    pod: pod.metadata.name ?? '',
    container,
    command,
    tty: false,
    stdin: false,
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    readAll(session.stdout),
    session.stderr ? readAll(session.stderr) : Promise.resolve(''),
    session.exited,
  ]);
  return { output: stdout + stderr, exitCode };
}

export const busybox = { image: IMAGE, imagePullPolicy: 'IfNotPresent' as const };
