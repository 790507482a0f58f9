// Deleting a namespace deletes what is in it, then the namespace, as Kubernetes' namespace controller
// does. It runs wherever an apiserver sees a terminating namespace (also after a restart), and every
// step is idempotent, so several apiservers doing it at once only repeat harmless deletes.
import { RESOURCE_TYPES, kubeTimestamp, storageKey, storagePrefix, type KubeObject } from '@flotilla/api';
import type { Logger } from 'pino';
import { StoreError } from '@flotilla/store';
import { prepareForCreate } from './object-lifecycle';
import type { ResourceStorage } from './resource-storage';

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const RETRY_MS = 2000;
/**
 * Kubernetes' namespace controller starts a moment after the namespace is marked; `kubectl delete -f`
 * relies on that, deleting the namespace first and then, one by one, the objects that were in it.
 */
const START_DELAY_MS = 2000;

export class NamespaceCleanup {
  private readonly running = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private watch: { close(): void } | undefined;

  constructor(
    private readonly storage: ResourceStorage,
    private readonly logger: Logger,
  ) {}

  /** Creates the namespaces every Kubernetes cluster has, if they are missing. */
  async ensureSystemNamespaces(): Promise<void> {
    const namespaceType = RESOURCE_TYPES.find((type) => type.kind === 'Namespace');
    if (!namespaceType) return;
    for (const name of SYSTEM_NAMESPACES) {
      const key = storageKey(namespaceType, undefined, name);
      if (await this.storage.store.get(key)) continue;
      const namespace = prepareForCreate(
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name },
          spec: { finalizers: ['kubernetes'] },
        } as KubeObject,
        { type: namespaceType, namespace: undefined },
      );
      await this.storage.store.create(key, namespace).catch((error: unknown) => {
        // Another apiserver created it at the same moment.
        if (!(error instanceof StoreError && error.code === 'AlreadyExists')) throw error;
      });
    }
  }

  async start(): Promise<void> {
    const namespaceType = RESOURCE_TYPES.find((type) => type.kind === 'Namespace');
    if (!namespaceType) return;
    this.watch = await this.storage.cache(namespaceType).watch({
      filter: (object) => object.metadata?.deletionTimestamp !== undefined,
      onEvent: (event) => {
        if (event.type !== 'DELETED') this.schedule(event.object.metadata?.name ?? '', START_DELAY_MS);
      },
      onClose: () => {
        if (!this.stopped) setTimeout(() => void this.start(), RETRY_MS).unref();
      },
    });
  }

  stop(): void {
    this.stopped = true;
    this.watch?.close();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(namespace: string, delayMs: number): void {
    if (namespace === '' || this.running.has(namespace) || this.stopped) return;
    this.running.add(namespace);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      this.clean(namespace)
        .then((done) => {
          this.running.delete(namespace);
          if (!done) this.schedule(namespace, RETRY_MS);
        })
        .catch((error: unknown) => {
          this.running.delete(namespace);
          // A pass cut short by shutdown is not a failure worth reporting.
          if (this.stopped) return;
          this.logger.warn({ namespace, err: error }, 'namespace cleanup failed; retrying');
          this.schedule(namespace, RETRY_MS);
        });
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** One pass: deletes content; removes the namespace once nothing is left. True when finished. */
  private async clean(namespace: string): Promise<boolean> {
    const store = this.storage.store;
    let remaining = 0;
    for (const type of RESOURCE_TYPES.filter((candidate) => candidate.namespaced)) {
      const { items } = await store.list(storagePrefix(type, namespace));
      for (const item of items) {
        remaining++;
        await this.deleteObject(storageKey(type, namespace, item.metadata?.name ?? ''), item);
      }
    }
    if (remaining > 0) return false;
    const namespaceType = RESOURCE_TYPES.find((type) => type.kind === 'Namespace');
    if (!namespaceType) return true;
    const key = storageKey(namespaceType, undefined, namespace);
    const live = await store.get(key);
    if (!live) return true;
    if ((live.metadata?.finalizers ?? []).length > 0) return false;
    await store.delete(key, Number(live.metadata?.resourceVersion)).catch(() => undefined);
    this.logger.info({ namespace }, 'namespace deleted');
    return true;
  }

  /** Objects with finalizers or a running pod's grace period are marked; their owners finish them. */
  private async deleteObject(key: string, object: KubeObject): Promise<void> {
    const metadata = object.metadata ?? {};
    const store = this.storage.store;
    const bound = object.kind === 'Pod' && (object as { spec?: { nodeName?: string } }).spec?.nodeName;
    if ((metadata.finalizers ?? []).length === 0 && !bound) {
      await store.delete(key, Number(metadata.resourceVersion)).catch(() => undefined);
      return;
    }
    if (metadata.deletionTimestamp) return;
    const marked = { ...object, metadata: { ...metadata, deletionTimestamp: kubeTimestamp() } };
    await store.update(key, marked, Number(metadata.resourceVersion)).catch(() => undefined);
  }
}
