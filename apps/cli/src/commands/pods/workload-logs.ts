// `flotilla logs deploy/NAME` (or rs/NAME): every replica's log, merged, each line prefixed with
// [pod/NAME/CONTAINER] as `kubectl logs --prefix` writes it. With -f it keeps following the pods
// there are and picks up new ones as the workload's selector finds them (a rollout's new pods).
import {
  labelSelectorMatcher,
  resolveResourceName,
  type KubeObject,
  type LabelSelector,
  type Pod,
} from '@flotilla/api';
import { createInformer, streamPodLogs, type PodLogsOptions, type RestClient } from '@flotilla/client';
import { CliError, EXIT_USAGE, type CliContext } from '../../cli-context';

const WORKLOAD_KINDS: Readonly<Record<string, string>> = {
  deploy: 'deployments',
  deployment: 'deployments',
  deployments: 'deployments',
  'deployment.apps': 'deployments',
  'deployments.apps': 'deployments',
  rs: 'replicasets',
  replicaset: 'replicasets',
  replicasets: 'replicasets',
  'replicaset.apps': 'replicasets',
  'replicasets.apps': 'replicasets',
};

export interface WorkloadReference {
  readonly resource: string;
  readonly name: string;
}

/** "deploy/web" → { resource: "deployments", name: "web" }; a pod or plain name → undefined. */
export function workloadOf(argument: string): WorkloadReference | undefined {
  const slash = argument.indexOf('/');
  if (slash < 0) return undefined;
  const resource = WORKLOAD_KINDS[argument.slice(0, slash).toLowerCase()];
  const name = argument.slice(slash + 1);
  if (resource === undefined) return undefined;
  if (name === '') throw new CliError(`"${argument}" names nothing: use ${argument}NAME`, EXIT_USAGE);
  return { resource, name };
}

type PodObject = Pod & KubeObject;
type LogFlags = Omit<PodLogsOptions, 'pod' | 'namespace' | 'container' | 'signal'>;

/** Which container of a pod to read: -c, else kubectl's default-container annotation, else the first. */
function containerOf(pod: PodObject, requested: string | undefined): string | undefined {
  if (requested !== undefined) return requested;
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  return annotated ?? pod.spec?.containers[0]?.name;
}

/** Whether the container may have a log yet (not waiting to start), as far as the status tells. */
function mayHaveLog(pod: PodObject, container: string): boolean {
  if (!pod.spec?.nodeName || pod.metadata.deletionTimestamp) return false;
  const status = pod.status?.containerStatuses?.find((candidate) => candidate.name === container);
  return status?.state?.waiting === undefined || (status.restartCount ?? 0) > 0;
}

/** Writes whole lines with a prefix; a partial line waits for its end (or the stream's). */
function prefixedWriter(write: (text: string) => void, prefix: string) {
  let partial = '';
  return {
    data(chunk: Buffer): void {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) write(`${prefix}${line}\n`);
    },
    end(): void {
      if (partial !== '') write(`${prefix}${partial}\n`);
      partial = '';
    },
  };
}

export async function printWorkloadLogs(options: {
  readonly context: CliContext;
  readonly client: RestClient;
  readonly namespace: string;
  readonly workload: WorkloadReference;
  readonly container: string | undefined;
  readonly flags: LogFlags;
}): Promise<void> {
  const { context, client, namespace, workload } = options;
  const type = resolveResourceName(workload.resource);
  if (!type) throw new CliError(`no resource type ${workload.resource}`);
  const object = await client.get<KubeObject & { spec?: { selector?: LabelSelector } }>(type, workload.name, {
    namespace,
  });
  const selector = object.spec?.selector;
  if (!selector) throw new CliError(`${workload.resource}/${workload.name} has no selector to find its pods`);
  const labelSelector = labelSelectorMatcher(selector).toString();
  const signal = context.io.signal;

  const follow = async (pod: PodObject, container: string): Promise<void> => {
    const name = pod.metadata.name ?? '';
    const writer = prefixedWriter((text) => context.io.write(text), `[pod/${name}/${container}] `);
    const response = await streamPodLogs(client, {
      ...options.flags,
      namespace,
      pod: name,
      container,
      signal,
    });
    await new Promise<void>((resolve, reject) => {
      response.on('data', (chunk: Buffer) => writer.data(chunk));
      response.once('end', resolve);
      response.once('close', resolve);
      response.once('error', (error) => (signal.aborted ? resolve() : reject(error)));
    });
    writer.end();
  };
  const report = (pod: PodObject, error: unknown): void => {
    if (signal.aborted) return;
    context.io.writeError(
      `warning: no log of pod/${pod.metadata.name ?? ''}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  };

  if (!options.flags.follow) {
    const pods = (await client.list<PodObject>(resolvePods(), { namespace, labelSelector })).items.sort(
      (a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    );
    if (pods.length === 0) context.io.writeError(`no pods of ${workload.resource}/${workload.name} yet\n`);
    for (const pod of pods) {
      const container = containerOf(pod, options.container);
      if (container === undefined || !pod.spec?.nodeName) continue;
      await follow(pod, container).catch((error: unknown) => report(pod, error));
    }
    return;
  }

  // Following: every pod the selector finds, now or later, once its container may have a log.
  const followed = new Set<string>();
  const running: Array<Promise<void>> = [];
  const consider = (pod: PodObject): void => {
    const container = containerOf(pod, options.container);
    const key = `${pod.metadata.uid ?? ''}/${container ?? ''}`;
    if (container === undefined || followed.has(key) || !mayHaveLog(pod, container)) return;
    followed.add(key);
    running.push(
      follow(pod, container).catch((error: unknown) => {
        // Not started after all: a later update of the pod tries again.
        followed.delete(key);
        report(pod, error);
      }),
    );
  };
  const informer = createInformer<PodObject>({ client, resource: resolvePods(), namespace, labelSelector });
  informer.addEventHandler({ onAdd: consider, onUpdate: (_previous, pod) => consider(pod) });
  informer.start();
  try {
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    informer.stop();
    await Promise.allSettled(running);
  }
}

function resolvePods() {
  const type = resolveResourceName('pods');
  if (!type) throw new Error('@flotilla/api has no pods resource');
  return type;
}
