// Cluster IPs and node ports for Services, as kube-apiserver's ipallocator and portallocator hand them
// out. Every allocated value is its own etcd key (one per IP, one per node port) created with a
// create-if-absent before the Service is written, so two apiservers creating Services at once can
// never hand out one value twice: the second create fails and that apiserver picks another value (or
// answers 422 for a value the client asked for). The claim names its Service; a write that fails
// after claiming frees its claims at once, and a periodic repair pass (Kubernetes' repair
// controllers) frees claims whose Service is gone for longer than one pass (a crash between claim and
// write, or a namespace deletion that removed Services straight from etcd) and re-claims values that
// stored Services hold without a claim.
import { RESOURCE_TYPES, storagePrefix, type KubeObject, type StatusCause } from '@flotilla/api';
import { StoreError, type Store } from '@flotilla/store';
import type { Logger } from 'pino';
import { apiErrors } from '../http/api-error';
import { parseIpv4 } from '../net/ipv4.util';
import {
  freeOffset,
  ipAt,
  ipOffset,
  parseNodePortRange,
  parseServiceIpRange,
  portOffset,
  upperBandStart,
  type NodePortRange,
  type ServiceIpRange,
} from './service-allocation.util';

export const SERVICE_IP_CLAIM_PREFIX = '/registry/flotilla.dev/serviceipclaims/';
export const NODE_PORT_CLAIM_PREFIX = '/registry/flotilla.dev/servicenodeportclaims/';
const SERVICE_RESOURCE = RESOURCE_TYPES.find((type) => type.group === '' && type.kind === 'Service');
const SERVICE_TYPE = { group: '', kind: 'Service' } as const;

export interface ServiceAllocatorOptions {
  store: Store;
  /** --service-cluster-ip-range (default 10.96.0.0/12). */
  serviceClusterIpRange?: string;
  /** Node ports (default 30000-32767). */
  nodePortRange?: string;
  /** How often leaked claims are looked for (default 60 s). */
  repairIntervalMs?: number;
  logger?: Logger;
  /** A source of [0, 1) numbers (default Math.random). */
  random?: () => number;
}

/** A claim this apiserver created, to free if the write it was made for fails. */
export interface Claim {
  key: string;
  revision: number;
}

export interface AllocationPlan {
  /** The Service as it may be stored: cluster IP(s) and node ports filled in. */
  object: KubeObject;
  /** Claims made for this write: free them when the write fails. */
  claimed: Claim[];
  /** Claims the old object held that the new one does not: free them once the write succeeded. */
  freed: string[];
}

interface ServicePortShape {
  name?: string;
  port?: number;
  protocol?: string;
  nodePort?: number;
  [key: string]: unknown;
}

interface ServiceSpecShape {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  ports?: ServicePortShape[];
  [key: string]: unknown;
}

interface ClaimObject extends KubeObject {
  value: string;
  namespace: string;
  service: string;
}

interface Owner {
  namespace: string;
  name: string;
}

function specOf(object: KubeObject | undefined): ServiceSpecShape {
  const spec = (object as { spec?: unknown } | undefined)?.spec;
  return typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? (spec as ServiceSpecShape) : {};
}

function ownerOf(object: KubeObject): Owner {
  return { namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' };
}

function usesNodePorts(type: string | undefined): boolean {
  return type === 'NodePort' || type === 'LoadBalancer';
}

function ipKey(ip: string): string {
  return `${SERVICE_IP_CLAIM_PREFIX}${ip}`;
}

function portKey(port: number): string {
  return `${NODE_PORT_CLAIM_PREFIX}${port}`;
}

function isClaim(object: KubeObject): object is ClaimObject {
  const record = object as Partial<ClaimObject>;
  return (
    typeof record.value === 'string' &&
    typeof record.namespace === 'string' &&
    typeof record.service === 'string'
  );
}

function ownedBy(claim: KubeObject | undefined, owner: Owner): boolean {
  return (
    claim !== undefined &&
    isClaim(claim) &&
    claim.namespace === owner.namespace &&
    claim.service === owner.name
  );
}

/** The cluster IP a Service holds: none for headless, ExternalName and not-yet-allocated ones. */
function heldIp(spec: ServiceSpecShape): string | undefined {
  const ip = spec.clusterIP;
  return ip && ip !== 'None' ? ip : undefined;
}

function heldPorts(spec: ServiceSpecShape): Set<number> {
  const ports = new Set<number>();
  if (!usesNodePorts(spec.type)) return ports;
  for (const port of spec.ports ?? []) if (port.nodePort) ports.add(port.nodePort);
  return ports;
}

export class ServiceAllocator {
  private readonly store: Store;
  readonly ipRange: ServiceIpRange;
  readonly portRange: NodePortRange;
  private readonly random: () => number;
  private readonly logger: Logger | undefined;
  private readonly repairIntervalMs: number;
  private repairTimer: NodeJS.Timeout | undefined;
  private repairing: Promise<void> | undefined;
  /** The claims' list revision at the previous repair pass: only claims at or below it may be freed. */
  private previousPassRevision: number | undefined;

  constructor(options: ServiceAllocatorOptions) {
    this.store = options.store;
    this.ipRange = parseServiceIpRange(options.serviceClusterIpRange ?? '10.96.0.0/12');
    this.portRange = parseNodePortRange(options.nodePortRange ?? '30000-32767');
    this.random = options.random ?? Math.random;
    this.logger = options.logger;
    this.repairIntervalMs = options.repairIntervalMs ?? 60_000;
  }

  /** Checks and claims what a new Service needs; throws 422 naming the field on a bad or taken value. */
  async forCreate(options: { service: KubeObject; dryRun?: boolean }): Promise<AllocationPlan> {
    return this.plan({ live: undefined, updated: options.service, dryRun: options.dryRun ?? false });
  }

  /**
   * Keeps what the live Service holds when the update leaves it out (clusterIP, node ports: kubectl
   * apply and PUT without them must not fight the allocator), refuses changing the cluster IP, and
   * claims new node ports; node ports the update drops are returned in `freed`.
   */
  async forUpdate(options: {
    live: KubeObject;
    updated: KubeObject;
    dryRun?: boolean;
  }): Promise<AllocationPlan> {
    return this.plan({ live: options.live, updated: options.updated, dryRun: options.dryRun ?? false });
  }

  /**
   * The update with the live cluster IP put back where it left it out or sent "" (kubectl replace of
   * a manifest without one), before validation, as Kubernetes' registry does: only a different IP is
   * a change of an immutable field.
   */
  keepAllocated(options: { live: KubeObject; updated: KubeObject }): KubeObject {
    const liveSpec = specOf(options.live);
    const spec = specOf(options.updated);
    const liveIp = liveSpec.clusterIP;
    const type = spec.type ?? 'ClusterIP';
    const missing = spec.clusterIP === undefined || spec.clusterIP === '';
    if (!liveIp || type === 'ExternalName' || !missing) return options.updated;
    const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : (liveSpec.clusterIPs ?? [liveIp]);
    return { ...options.updated, spec: { ...spec, clusterIP: liveIp, clusterIPs } } as KubeObject;
  }

  private async plan(input: {
    live: KubeObject | undefined;
    updated: KubeObject;
    dryRun: boolean;
  }): Promise<AllocationPlan> {
    const { live, updated, dryRun } = input;
    const owner = ownerOf(updated);
    const name = owner.name;
    const liveSpec = specOf(live);
    const spec: ServiceSpecShape = { ...specOf(updated) };
    const type = spec.type ?? 'ClusterIP';
    const causes: StatusCause[] = [];
    const invalid = (field: string, message: string): void => {
      causes.push({ reason: 'FieldValueInvalid', field, message });
    };

    // --- cluster IP ---
    const liveIp = live ? liveSpec.clusterIP : undefined;
    if (spec.clusterIP === '') delete spec.clusterIP;
    if (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length === 0) delete spec.clusterIPs;
    if (live && liveIp && type !== 'ExternalName' && spec.clusterIP === undefined) {
      spec.clusterIP = liveIp;
      spec.clusterIPs ??= liveSpec.clusterIPs ?? [liveIp];
    }
    if (spec.clusterIP === undefined && spec.clusterIPs?.[0] !== undefined)
      spec.clusterIP = spec.clusterIPs[0];
    if (spec.clusterIPs !== undefined && spec.clusterIPs[0] !== spec.clusterIP) {
      invalid(
        'spec.clusterIPs[0]',
        `Invalid value: ${JSON.stringify(spec.clusterIPs[0])}: must match \`clusterIP\` (${JSON.stringify(spec.clusterIP)})`,
      );
    }
    if ((spec.clusterIPs?.length ?? 0) > 1) {
      invalid(
        'spec.clusterIPs',
        `Invalid value: ${JSON.stringify(spec.clusterIPs)}: only one IPv4 cluster IP is supported (no dual stack)`,
      );
    }
    if (live && liveIp && spec.clusterIP !== liveIp && type !== 'ExternalName') {
      invalid('spec.clusterIP', `Invalid value: ${JSON.stringify(spec.clusterIP)}: field is immutable`);
    }
    const wantsIp = type !== 'ExternalName';
    let requestedIp: string | undefined;
    if (type === 'ExternalName') {
      if (spec.clusterIP !== undefined && spec.clusterIP !== liveIp) {
        invalid('spec.clusterIP', 'Invalid value: must be empty for ExternalName services');
      }
      delete spec.clusterIP;
      delete spec.clusterIPs;
    } else if (spec.clusterIP === 'None') {
      if (type !== 'ClusterIP') {
        invalid('spec.clusterIP', `Invalid value: "None": may not be set to 'None' for ${type} services`);
      }
    } else if (spec.clusterIP !== undefined && spec.clusterIP !== liveIp) {
      requestedIp = spec.clusterIP;
      if (parseIpv4(requestedIp) === undefined) {
        invalid(
          'spec.clusterIP',
          `Invalid value: ${JSON.stringify(requestedIp)}: must be a valid IPv4 address (e.g. 10.96.0.10) or "None"`,
        );
      } else if (ipOffset(this.ipRange, requestedIp) === undefined) {
        invalid(
          'spec.clusterIPs',
          `Invalid value: ${JSON.stringify([requestedIp])}: failed to allocate IP ${requestedIp}: the provided IP ` +
            `(${requestedIp}) is not in the valid range. The range of valid IPs is ${this.ipRange.cidr}`,
        );
      }
    }

    // --- node ports ---
    const ports = (spec.ports ?? []).map((port) => ({ ...port }));
    const liveHeld = heldPorts(liveSpec);
    const wantedPorts = new Map<number, number>();
    const requestedPorts = new Map<number, number>();
    if (usesNodePorts(type)) {
      ports.forEach((port, index) => {
        if (port.nodePort === undefined || port.nodePort === 0) {
          // Kubernetes keeps a port's node port across updates that leave it out.
          const previous = (liveSpec.ports ?? []).find(
            (old) =>
              old.nodePort &&
              old.port === port.port &&
              (old.protocol ?? 'TCP') === (port.protocol ?? 'TCP') &&
              liveHeld.has(old.nodePort),
          );
          if (previous?.nodePort && usesNodePorts(liveSpec.type)) port.nodePort = previous.nodePort;
          else {
            delete port.nodePort;
            return;
          }
        }
        const nodePort = port.nodePort;
        const field = `spec.ports[${index}].nodePort`;
        if (portOffset(this.portRange, nodePort) === undefined) {
          invalid(
            field,
            `Invalid value: ${nodePort}: provided port is not in the valid range. The range of valid ports is ${this.portRange.text}`,
          );
          return;
        }
        const clash = ports.findIndex(
          (other, otherIndex) =>
            otherIndex < index &&
            other.nodePort === nodePort &&
            (other.protocol ?? 'TCP') === (port.protocol ?? 'TCP'),
        );
        if (clash >= 0) {
          causes.push({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${nodePort}` });
          return;
        }
        wantedPorts.set(nodePort, index);
        if (!liveHeld.has(nodePort)) requestedPorts.set(nodePort, index);
      });
    }
    if (causes.length > 0) throw apiErrors.invalid(SERVICE_TYPE, name, causes);

    // --- claims ---
    const claimed: Claim[] = [];
    // Thrown inside the try below, whose catch frees what this write claimed so far.
    const failure = (field: string, message: string): Error =>
      apiErrors.invalid(SERVICE_TYPE, name, [{ reason: 'FieldValueInvalid', field, message }]);
    try {
      const needsIp =
        wantsIp && spec.clusterIP !== 'None' && (spec.clusterIP === undefined || spec.clusterIP !== liveIp);
      if (needsIp) {
        if (requestedIp !== undefined) {
          const outcome = dryRun
            ? await this.probe(ipKey(requestedIp), owner)
            : await this.claim(ipKey(requestedIp), requestedIp, owner);
          if (outcome === 'taken') {
            throw failure(
              'spec.clusterIPs',
              `Invalid value: ${JSON.stringify([requestedIp])}: failed to allocate IP ${requestedIp}: provided IP is already allocated`,
            );
          }
          if (typeof outcome === 'object') claimed.push(outcome);
        } else {
          const allocated = await this.allocateIp(owner, dryRun);
          if (!allocated) {
            throw failure(
              'spec.clusterIPs',
              `Invalid value: []: failed to allocate a service IP: range ${this.ipRange.cidr} is full; ` +
                'delete Services that are no longer needed or widen --service-cluster-ip-range',
            );
          }
          spec.clusterIP = allocated.ip;
          if (allocated.claim) claimed.push(allocated.claim);
        }
        spec.clusterIPs = [spec.clusterIP ?? ''];
      }
      for (const [nodePort, index] of requestedPorts) {
        const outcome = dryRun
          ? await this.probe(portKey(nodePort), owner)
          : await this.claim(portKey(nodePort), String(nodePort), owner);
        if (outcome === 'taken') {
          throw failure(
            `spec.ports[${index}].nodePort`,
            `Invalid value: ${nodePort}: provided port is already allocated`,
          );
        }
        if (typeof outcome === 'object') claimed.push(outcome);
      }
      for (const port of ports) {
        if (!usesNodePorts(type) || port.nodePort !== undefined) continue;
        const allocated = await this.allocatePort(owner, new Set(wantedPorts.keys()), dryRun);
        if (!allocated) {
          throw failure(
            `spec.ports[${ports.indexOf(port)}].nodePort`,
            `Invalid value: 0: failed to allocate a node port: range ${this.portRange.text} is full; delete NodePort Services that are no longer needed`,
          );
        }
        port.nodePort = allocated.port;
        wantedPorts.set(allocated.port, ports.indexOf(port));
        if (allocated.claim) claimed.push(allocated.claim);
      }
    } catch (error) {
      await this.release(claimed);
      throw error;
    }

    if (spec.clusterIP !== undefined) {
      spec.clusterIPs ??= [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
    if (spec.ports !== undefined) spec.ports = ports;
    const freed: string[] = [];
    for (const nodePort of liveHeld) if (!wantedPorts.has(nodePort)) freed.push(portKey(nodePort));
    const oldIp = heldIp(liveSpec);
    if (live && oldIp && heldIp(spec) !== oldIp) freed.push(ipKey(oldIp));
    return { object: { ...updated, spec } as KubeObject, claimed, freed };
  }

  /** Creates the claim; 'taken' when another Service holds it, 'held' when this one already does. */
  private async claim(key: string, value: string, owner: Owner): Promise<Claim | 'taken' | 'held'> {
    try {
      const stored = await this.store.create(key, {
        apiVersion: 'flotilla.dev/v1',
        kind: key.startsWith(SERVICE_IP_CLAIM_PREFIX) ? 'ServiceIPClaim' : 'NodePortClaim',
        metadata: { name: value },
        value,
        namespace: owner.namespace,
        service: owner.name,
      });
      return { key, revision: Number(stored.metadata?.resourceVersion) };
    } catch (error) {
      if (!(error instanceof StoreError) || error.code !== 'AlreadyExists') throw error;
      return ownedBy(await this.store.get(key), owner) ? 'held' : 'taken';
    }
  }

  /** What claim() would answer, without writing (dry run). */
  private async probe(key: string, owner: Owner): Promise<'free' | 'taken' | 'held'> {
    const existing = await this.store.get(key);
    if (!existing) return 'free';
    return ownedBy(existing, owner) ? 'held' : 'taken';
  }

  private async takenOffsets(
    prefix: string,
    offsetOf: (value: string) => number | undefined,
  ): Promise<Set<number>> {
    const { items } = await this.store.list(prefix);
    const taken = new Set<number>();
    for (const item of items) {
      if (!isClaim(item)) continue;
      const offset = offsetOf(item.value);
      if (offset !== undefined) taken.add(offset);
    }
    return taken;
  }

  private async allocateIp(
    owner: Owner,
    dryRun: boolean,
  ): Promise<{ ip: string; claim?: Claim } | undefined> {
    const usable = this.ipRange.size - 2;
    const taken = await this.takenOffsets(SERVICE_IP_CLAIM_PREFIX, (value) => ipOffset(this.ipRange, value));
    const upperFrom = upperBandStart({ first: 1, usable, divisor: 16, max: 256 });
    for (;;) {
      const offset = freeOffset({ first: 1, last: usable, upperFrom, taken, random: this.random() });
      if (offset === undefined) return undefined;
      const ip = ipAt(this.ipRange, offset);
      if (dryRun) return { ip };
      const outcome = await this.claim(ipKey(ip), ip, owner);
      if (typeof outcome === 'object') return { ip, claim: outcome };
      // Another apiserver claimed it since the list (or a leftover of this Service's name holds it):
      // try another value rather than share one.
      taken.add(offset);
    }
  }

  private async allocatePort(
    owner: Owner,
    alsoTaken: ReadonlySet<number>,
    dryRun: boolean,
  ): Promise<{ port: number; claim?: Claim } | undefined> {
    const range = this.portRange;
    const taken = await this.takenOffsets(NODE_PORT_CLAIM_PREFIX, (value) =>
      portOffset(range, Number(value)),
    );
    for (const port of alsoTaken) {
      const offset = portOffset(range, port);
      if (offset !== undefined) taken.add(offset);
    }
    const upperFrom = upperBandStart({ first: 0, usable: range.size, divisor: 32, max: 128 });
    for (;;) {
      const offset = freeOffset({ first: 0, last: range.size - 1, upperFrom, taken, random: this.random() });
      if (offset === undefined) return undefined;
      const port = range.first + offset;
      if (dryRun) return { port };
      const outcome = await this.claim(portKey(port), String(port), owner);
      if (typeof outcome === 'object') return { port, claim: outcome };
      taken.add(offset);
    }
  }

  /** Frees claims made for a write that failed; a claim already gone is fine. */
  async release(claims: readonly Claim[]): Promise<void> {
    for (const claim of claims) {
      await this.store.delete(claim.key, claim.revision).catch((error: unknown) => {
        if (error instanceof StoreError && (error.code === 'NotFound' || error.code === 'Conflict')) return;
        this.logger?.warn(
          { err: error, claim: claim.key },
          'could not free a service claim; the repair pass will',
        );
      });
    }
  }

  /** Frees the named claims when `owner` still holds them (after an update dropped them, or a delete). */
  async releaseKeys(keys: readonly string[], owner: Owner): Promise<void> {
    for (const key of keys) {
      try {
        const claim = await this.store.get(key);
        if (!claim || !ownedBy(claim, owner)) continue;
        await this.store.delete(key, Number(claim.metadata?.resourceVersion));
      } catch (error) {
        if (error instanceof StoreError && (error.code === 'NotFound' || error.code === 'Conflict')) continue;
        this.logger?.warn({ err: error, claim: key }, 'could not free a service claim; the repair pass will');
      }
    }
  }

  /** Frees everything a deleted Service held. */
  async releaseService(service: KubeObject): Promise<void> {
    const spec = specOf(service);
    const keys = [...heldPorts(spec)].map(portKey);
    const ip = heldIp(spec);
    if (ip) keys.push(ipKey(ip));
    await this.releaseKeys(keys, ownerOf(service));
  }

  /** Runs the repair pass every repairIntervalMs until stop(). */
  start(): void {
    if (this.repairTimer) return;
    const tick = (): void => {
      this.repairing = this.repairOnce()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.logger?.warn({ err: error }, 'service claim repair failed; retrying next pass'),
        )
        .finally(() => {
          this.repairing = undefined;
        });
    };
    tick();
    this.repairTimer = setInterval(tick, this.repairIntervalMs);
    this.repairTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.repairTimer) clearInterval(this.repairTimer);
    this.repairTimer = undefined;
    await this.repairing;
  }

  /**
   * One repair pass: claims no stored Service holds are freed once they are older than the previous
   * pass (a Service being created right now has its claim for less than that); values stored
   * Services hold without a claim are claimed, so nobody else is given them.
   */
  async repairOnce(): Promise<{ freed: number; claimed: number }> {
    const claims = [
      ...(await this.store.list(SERVICE_IP_CLAIM_PREFIX)).items,
      ...(await this.store.list(NODE_PORT_CLAIM_PREFIX)).items,
    ];
    if (!SERVICE_RESOURCE) return { freed: 0, claimed: 0 };
    const listed = await this.store.list(storagePrefix(SERVICE_RESOURCE, undefined));
    const previous = this.previousPassRevision;
    this.previousPassRevision = listed.revision;
    const held = new Map<string, Owner>();
    for (const service of listed.items) {
      const spec = specOf(service);
      const owner = ownerOf(service);
      const ip = heldIp(spec);
      if (ip && ipOffset(this.ipRange, ip) !== undefined) held.set(ipKey(ip), owner);
      for (const port of heldPorts(spec))
        if (portOffset(this.portRange, port) !== undefined) held.set(portKey(port), owner);
    }
    let freed = 0;
    let claimed = 0;
    const byKey = new Map<string, KubeObject>();
    for (const claim of claims) {
      if (!isClaim(claim)) continue;
      const key = this.keyOf(claim);
      byKey.set(key, claim);
      // A value outside this apiserver's ranges is another configuration's (a misconfigured replica,
      // a range changed across a restart): not ours to judge.
      const inRange =
        claim.kind === 'ServiceIPClaim'
          ? ipOffset(this.ipRange, claim.value) !== undefined
          : portOffset(this.portRange, Number(claim.value)) !== undefined;
      if (!inRange) continue;
      const owner = held.get(key);
      if (owner && ownedBy(claim, owner)) continue;
      const revision = Number(claim.metadata?.resourceVersion);
      if (previous === undefined || !(revision <= previous)) continue;
      try {
        await this.store.delete(key, revision);
        freed++;
        this.logger?.info(
          { claim: key, service: `${claim.namespace}/${claim.service}` },
          'freed a leaked service claim',
        );
      } catch (error) {
        if (!(error instanceof StoreError) || (error.code !== 'NotFound' && error.code !== 'Conflict'))
          throw error;
      }
    }
    for (const [key, owner] of held) {
      if (byKey.has(key)) continue;
      const value = key.startsWith(SERVICE_IP_CLAIM_PREFIX)
        ? key.slice(SERVICE_IP_CLAIM_PREFIX.length)
        : key.slice(NODE_PORT_CLAIM_PREFIX.length);
      if (typeof (await this.claim(key, value, owner)) === 'object') claimed++;
    }
    return { freed, claimed };
  }

  private keyOf(claim: ClaimObject): string {
    return claim.kind === 'ServiceIPClaim' ? ipKey(claim.value) : portKey(Number(claim.value));
  }
}
