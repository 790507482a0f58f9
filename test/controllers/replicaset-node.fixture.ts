// The test plays the node agents for the workload controller tests: node agents are built elsewhere
// (issue 4) and are genuinely external to the controllers under test. Like a kubelet it binds pods
// to nodes (as a scheduler would), reports them Running and Ready through pods/status, and finishes
// the graceful deletion of pods bound to it. Which pods become ready is the test's decision
// (`ready`), so rollouts can be held, advanced one pod at a time, or broken.
import {
  kubeTimestamp,
  resolveResourceName,
  type KubeObject,
  type Pod,
  type ResourceType,
} from '@flotilla/api';
import { createInformer, isConflict, isNotFound, type Informer, type RestClient } from '@flotilla/client';
import type { TestControlPlane } from '../support/cluster';

export type PodObject = Pod & KubeObject;

export interface FakeNodesOptions {
  readonly cp: TestControlPlane;
  readonly client: RestClient;
  readonly namespace: string;
  readonly nodes: readonly string[];
  /** Whether a bound pod should be reported Ready now; undefined: every pod is. */
  readonly ready?: (pod: PodObject) => boolean;
  /** A reason its containers wait with instead of running (ImagePullBackOff, CrashLoopBackOff...). */
  readonly waiting?: (pod: PodObject) => { reason: string; message: string } | undefined;
}

export interface FakeNodes {
  readonly pods: Informer<PodObject>;
  /** Re-checks every pod (after changing what `ready` answers). */
  poke(): void;
  /** Waits until the nodes have nothing left to do (every pod bound, reported, deletions finished). */
  settled(): Promise<void>;
  stop(): void;
}

export function startFakeNodes(options: FakeNodesOptions): FakeNodes {
  const { cp, client, namespace } = options;
  const base = `/api/v1/namespaces/${namespace}/pods`;
  const pods = createInformer<PodObject>({ client, resource: podsType(), namespace });
  let next = 0;
  const busy = new Set<string>();
  const again = new Set<string>();
  let work: Promise<void>[] = [];

  const handle = async (pod: PodObject): Promise<void> => {
    const name = pod.metadata.name ?? '';
    if (pod.metadata.deletionTimestamp !== undefined) {
      // The kubelet has stopped the containers: remove the pod for good.
      const result = await cp.request('DELETE', `${base}/${name}`, {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 },
      });
      if (result.status >= 300 && result.status !== 404) throw new Error(`delete ${name}: ${result.text}`);
      return;
    }
    if (!pod.spec.nodeName) {
      const node = options.nodes[next++ % options.nodes.length] ?? 'node-a';
      const result = await cp.request('POST', `${base}/${name}/binding`, {
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: node } },
      });
      if (result.status >= 300 && result.status !== 404 && result.status !== 409) {
        throw new Error(`bind ${name}: ${result.text}`);
      }
      return;
    }
    const waiting = options.waiting?.(pod);
    const ready = !waiting && (options.ready?.(pod) ?? true);
    const phase = waiting ? 'Pending' : 'Running';
    const current = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
    const reported = (pod.status?.containerStatuses ?? []).length > 0;
    if (reported && pod.status?.phase === phase && (current?.status === 'True') === ready) return;
    const now = kubeTimestamp();
    const status = {
      phase,
      startTime: pod.status?.startTime ?? now,
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          lastTransitionTime: (current?.status === 'True') === ready ? current?.lastTransitionTime : now,
        },
      ],
      containerStatuses: pod.spec.containers.map((container) => ({
        name: container.name,
        image: container.image ?? '',
        imageID: '',
        ready,
        restartCount: 0,
        started: !waiting,
        state: waiting ? { waiting } : { running: { startedAt: now } },
      })),
    };
    try {
      await client.updateStatus(podsType(), { ...structuredClone(pod), status } as PodObject, { namespace });
    } catch (error) {
      if (!isNotFound(error) && !isConflict(error)) throw error;
    }
  };

  const schedule = (pod: PodObject): void => {
    const key = pod.metadata.name ?? '';
    if (busy.has(key)) {
      again.add(key);
      return;
    }
    busy.add(key);
    const run = handle(pod)
      .catch((error: unknown) => {
        process.stderr.write(`fake node: ${String(error)}\n`);
      })
      .finally(() => {
        busy.delete(key);
        if (again.delete(key)) {
          const latest = pods.get(`${namespace}/${key}`);
          if (latest) schedule(latest);
        }
      });
    work.push(run);
  };
  pods.addEventHandler({ onAdd: schedule, onUpdate: (_previous, pod) => schedule(pod) });
  pods.start();
  return {
    pods,
    poke: () => pods.list().forEach(schedule),
    async settled() {
      while (work.length > 0) {
        const pending = work;
        work = [];
        await Promise.all(pending);
      }
    },
    stop: () => pods.stop(),
  };
}

function podsType(): ResourceType {
  const type = resolveResourceName('pods');
  if (!type) throw new Error('@flotilla/api has no pods');
  return type;
}
