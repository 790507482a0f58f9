// Everything the engine must remember about a pod to survive its own restart, one JSON file per pod:
//   PODS/<uid>/state.json   the pod as last desired, its sandbox, and per container the instances
//                           (runtime container IDs), restart count, back-off and last termination
//   PODS/<uid>/volumes/...  emptyDir, configMap and secret volumes
//   PODS/<uid>/etc/...      hosts, hostname and resolv.conf bind-mounted into every container
// A new engine given the same directory reads these files and re-adopts what still runs.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod, PodStatus } from '@flotilla/api';
import { ensureSpreadDirectory } from '@flotilla/runtime';
import type { TerminatedState } from './pod-status.util';
import type { BackoffEntry } from './restart-backoff.util';

/** One runtime container made for a pod's container. */
export interface InstanceRecord {
  /** The runtime's container ID (64 hex). */
  id: string;
  /** The image the pod names, fully qualified, and the image's ID in the store. */
  image: string;
  imageID: string;
  /** Hash of the container's spec: a changed spec means a new instance (as kubelet does). */
  specHash: string;
  /** Set once the instance has ended (kept when the runtime container is gone). */
  terminated?: TerminatedState;
}

export interface ContainerSlot {
  restartCount: number;
  current?: InstanceRecord;
  /** The instance before current, kept for `logs --previous` and lastState until the next restart. */
  previous?: InstanceRecord;
  backoff?: BackoffEntry;
  /** Set once a startup probe succeeded for current (so a re-adopting engine does not repeat it). */
  startedOk?: boolean;
}

export interface SandboxRecord {
  hostNetwork: boolean;
  /** The bridge attachment's key, for pods with their own network namespace. */
  attachmentId?: string;
  namespacePath?: string;
  ip?: string;
}

export interface PodState {
  uid: string;
  namespace: string;
  name: string;
  /** The pod as last desired. */
  pod: Pod;
  startTime: string;
  sandbox?: SandboxRecord;
  initContainers: Record<string, ContainerSlot>;
  containers: Record<string, ContainerSlot>;
  lastStatus?: PodStatus;
}

const UID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkPodUid(uid: string): void {
  if (!UID_PATTERN.test(uid)) {
    throw new Error(
      `pod uid ${JSON.stringify(uid)} cannot name a directory: use letters, digits, ".", "_" or "-" (an API server's UUID)`,
    );
  }
}

export class PodStateStore {
  /**
   * What this process last wrote per pod. A reconcile persists at every step whether or not anything
   * changed; rewriting an identical file (mkdir, write, rename) under a burst of pod starts only
   * lengthened the file-system queue every pod waits in.
   */
  private readonly written = new Map<string, string>();
  private rootMade = false;

  constructor(readonly directory: string) {}

  podDir(uid: string): string {
    checkPodUid(uid);
    if (!this.rootMade) {
      // Each pod's files in a block group of their own (see ensureSpreadDirectory); 0755 as the
      // pod's etc and volume directories below it have always had. Once per store: a root removed
      // later is made again, without the flag, by the recursive mkdirs below it.
      ensureSpreadDirectory(this.directory, { mode: 0o755 });
      this.rootMade = true;
    }
    return join(this.directory, uid);
  }

  async save(state: PodState): Promise<void> {
    const dir = this.podDir(state.uid);
    const text = JSON.stringify(state);
    const previous = this.written.get(state.uid);
    if (previous === text) return;
    if (previous === undefined) await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, 'state.json');
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, text);
    await rename(temporary, file);
    this.written.set(state.uid, text);
  }

  /** Every pod recorded here; a file that cannot be read is reported, not fatal. */
  async loadAll(onError: (uid: string, error: Error) => void): Promise<PodState[]> {
    let entries: string[];
    try {
      entries = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const states: PodState[] = [];
    for (const uid of entries) {
      if (!UID_PATTERN.test(uid)) continue;
      try {
        states.push(JSON.parse(await readFile(join(this.directory, uid, 'state.json'), 'utf8')) as PodState);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        onError(uid, error instanceof Error ? error : new Error(String(error)));
      }
    }
    return states;
  }

  async remove(uid: string): Promise<void> {
    this.written.delete(uid);
    await rm(this.podDir(uid), { recursive: true, force: true });
  }
}
