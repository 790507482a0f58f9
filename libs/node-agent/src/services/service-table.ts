// The agent's view of every Service and Endpoints object (fed by the node stream) and what follows
// from it: the node's kernel service rules, written through ServiceProxy.sync with the whole set, and
// the ServiceDirectory that the service DNS reads names from. Changes are debounced: a rollout that
// moves twenty endpoints in a second costs one nft transaction, not twenty; a rule set equal to the
// one last written is not written again. A failed write is retried until one succeeds
// (level-triggered: the retry writes the then-current set).
import type { Endpoints, Service } from '@flotilla/api';
import type { ServiceRule } from '@flotilla/runtime';
import { isHeadless, serviceRules } from './service-rules.util';
import type { ServiceDirectory, ServiceEntry, ServicePortEntry } from './service-directory.types';

/** Where the rules go: ServiceProxy in the agent, a recorder in tests. */
export interface ServiceRuleSink {
  sync(rules: readonly ServiceRule[]): Promise<void>;
}

export interface ServiceTableOptions {
  proxy: ServiceRuleSink;
  /** How long changes are gathered before one write (default 100 ms). */
  debounceMs?: number;
  /** How long after a failed write it is tried again (default 2 s), doubling up to 30 s while writes keep failing. */
  retryMs?: number;
  log?: (message: string) => void;
}

const MAX_RETRY_MS = 30_000;

export type ServiceTableObject =
  { kind: 'Service'; object: Service } | { kind: 'Endpoints'; object: Endpoints };

function keyOf(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

function protocolOf(value: string | undefined): ServicePortEntry['protocol'] {
  return value === 'UDP' || value === 'SCTP' ? value : 'TCP';
}

export class ServiceTable implements ServiceDirectory {
  private readonly services = new Map<string, Service>();
  private readonly endpoints = new Map<string, Endpoints>();
  private readonly namespaces = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  private readonly debounceMs: number;
  private readonly retryMs: number;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private closed = false;
  private written: string | undefined;
  private lastSkipped = '';
  private failures = 0;
  /** The rules of the last successful write. */
  rules: readonly ServiceRule[] = [];

  constructor(private readonly options: ServiceTableOptions) {
    this.debounceMs = options.debounceMs ?? 100;
    this.retryMs = options.retryMs ?? 2_000;
  }

  /** The whole set (on connect, after an apiserver watch reset): anything not in it is gone. */
  replaceAll(objects: readonly ServiceTableObject[]): void {
    this.services.clear();
    this.endpoints.clear();
    this.namespaces.clear();
    for (const entry of objects) this.put(entry);
    this.changed();
  }

  upsert(entry: ServiceTableObject): void {
    this.put(entry);
    this.changed();
  }

  remove(kind: ServiceTableObject['kind'], namespace: string, name: string): void {
    const key = keyOf(namespace, name);
    if (kind === 'Service') {
      if (this.services.delete(key)) this.countNamespace(namespace, -1);
    } else this.endpoints.delete(key);
    this.changed();
  }

  private put(entry: ServiceTableObject): void {
    const key = keyOf(entry.object.metadata.namespace, entry.object.metadata.name);
    if (entry.kind === 'Service') {
      if (!this.services.has(key)) this.countNamespace(entry.object.metadata.namespace ?? '', 1);
      this.services.set(key, entry.object);
    } else this.endpoints.set(key, entry.object);
  }

  private countNamespace(namespace: string, delta: number): void {
    const count = (this.namespaces.get(namespace) ?? 0) + delta;
    if (count > 0) this.namespaces.set(namespace, count);
    else this.namespaces.delete(namespace);
  }

  lookupService(namespace: string, name: string): ServiceEntry | undefined {
    const key = keyOf(namespace, name);
    const service = this.services.get(key);
    if (!service || service.spec?.type === 'ExternalName') return undefined;
    const endpoints = this.endpoints.get(key);
    const ready: string[] = [];
    for (const subset of endpoints?.subsets ?? [])
      for (const address of subset.addresses ?? []) if (!ready.includes(address.ip)) ready.push(address.ip);
    const headless = isHeadless(service);
    // Clients of a headless service connect to the endpoints themselves: SRV records carry their ports.
    const ports: ServicePortEntry[] = headless
      ? (endpoints?.subsets?.[0]?.ports ?? []).map((port) => ({
          name: port.name ?? '',
          port: port.port,
          protocol: protocolOf(port.protocol),
        }))
      : (service.spec?.ports ?? []).map((port) => ({
          name: port.name ?? '',
          port: port.port,
          protocol: protocolOf(port.protocol),
        }));
    return {
      ...(headless ? {} : { clusterIP: service.spec?.clusterIP ?? '' }),
      ready,
      ports,
    };
  }

  hasNamespace(namespace: string): boolean {
    return this.namespaces.has(namespace);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
    this.schedule(this.debounceMs);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.timer || this.writing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, delayMs);
  }

  private async write(): Promise<void> {
    if (this.closed || !this.dirty) return;
    this.dirty = false;
    const { rules, skipped } = serviceRules(this.services.values(), this.endpoints);
    const skippedText = skipped.join('; ');
    if (skippedText !== '' && skippedText !== this.lastSkipped)
      this.options.log?.(`services left out: ${skippedText}`);
    this.lastSkipped = skippedText;
    const text = JSON.stringify(rules);
    if (text === this.written) return;
    let failed = false;
    this.writing = this.options.proxy.sync(rules).then(
      () => {
        this.written = text;
        this.rules = rules;
        this.failures = 0;
      },
      (error: unknown) => {
        failed = true;
        this.failures++;
        this.options.log?.(
          `could not program ${rules.length} service port(s): ${error instanceof Error ? error.message : String(error)}; retrying`,
        );
      },
    );
    await this.writing;
    this.writing = undefined;
    // A host that cannot write rules at all (no nft, no iptables) is told so less and less often.
    if (failed) this.schedule(Math.min(this.retryMs * 2 ** (this.failures - 1), MAX_RETRY_MS));
    else if (this.dirty) this.schedule(this.debounceMs);
  }

  /** Writes pending changes now and waits for the write (tests, shutdown). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.writing;
    await this.write();
  }

  /** Stops writing; the kernel keeps the last rules (a restarted agent replaces them). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    this.listeners.clear();
  }
}
