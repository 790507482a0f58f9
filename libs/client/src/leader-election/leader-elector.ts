// Leader election on a coordination.k8s.io/v1 Lease, so that of several replicas of a controller
// exactly one acts: the leader renews the lease every retry period; if it cannot renew within the
// renew deadline it stops leading before anyone else may take over (the lease lasts longer than the
// deadline), and a stopped leader releases the lease so a successor takes over at once.
import { resolveResourceName, type KubeObject, type ResourceType } from '@flotilla/api';
import { isConflict, isNotFound } from '../rest/api-error';
import type { RestClient } from '../rest/rest-client';
import { leaseExpired, microTime, nextLease, type LeaseRecord } from './leader-election.util';

export interface LeaderElectionOptions {
  readonly client: RestClient;
  readonly namespace: string;
  readonly name: string;
  /** Unique per replica, e.g. hostname and pid. */
  readonly identity: string;
  readonly leaseDurationSeconds?: number;
  readonly renewDeadlineSeconds?: number;
  readonly retryPeriodSeconds?: number;
  /** Called when this replica becomes leader; the signal aborts when it stops leading. */
  readonly onStartedLeading: (signal: AbortSignal) => void;
  readonly onStoppedLeading?: () => void;
  readonly onNewLeader?: (identity: string) => void;
  readonly onError?: (error: unknown) => void;
}

export interface LeaderElector {
  isLeader(): boolean;
  /** Stops campaigning; a leader releases the lease. */
  stop(): Promise<void>;
}

type LeaseObject = KubeObject & { spec?: LeaseRecord };

function leaseType(): ResourceType {
  const type = resolveResourceName('leases.coordination.k8s.io');
  if (!type) throw new Error('the Lease type is not registered');
  return type;
}

export function startLeaderElection(options: LeaderElectionOptions): LeaderElector {
  const type = leaseType();
  const duration = options.leaseDurationSeconds ?? 15;
  const renewDeadlineMs = (options.renewDeadlineSeconds ?? 10) * 1000;
  const retryMs = (options.retryPeriodSeconds ?? 2) * 1000;
  if (renewDeadlineMs >= duration * 1000)
    throw new Error('the renew deadline must be shorter than the lease duration');
  let leading: AbortController | undefined;
  let lastRenewal = 0;
  let observedLeader = '';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const stopLeading = (): void => {
    if (!leading) return;
    leading.abort();
    leading = undefined;
    options.onStoppedLeading?.();
  };

  const attempt = async (): Promise<void> => {
    const now = new Date();
    let current: LeaseObject | undefined;
    try {
      current = await options.client.get<LeaseObject>(type, options.name, { namespace: options.namespace });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const holder = current?.spec?.holderIdentity ?? '';
    if (holder && holder !== observedLeader) {
      observedLeader = holder;
      options.onNewLeader?.(holder);
    }
    const spec = nextLease({
      current: current?.spec,
      identity: options.identity,
      leaseDurationSeconds: duration,
      now,
    });
    if (!spec) return;
    const lease: LeaseObject = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: current ? { ...current.metadata } : { name: options.name, namespace: options.namespace },
      spec,
    };
    try {
      if (current) await options.client.update(type, lease, { namespace: options.namespace });
      else await options.client.create(type, lease, { namespace: options.namespace });
    } catch (error) {
      // Someone else wrote first: they won this round.
      if (isConflict(error) || (error as { status?: { reason?: string } }).status?.reason === 'AlreadyExists')
        return;
      throw error;
    }
    lastRenewal = Date.now();
    if (!leading) {
      leading = new AbortController();
      if (observedLeader !== options.identity) {
        observedLeader = options.identity;
        options.onNewLeader?.(options.identity);
      }
      options.onStartedLeading(leading.signal);
    }
  };

  const loop = (): void => {
    if (stopped) return;
    attempt()
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        // A leader that could not renew in time steps down before its lease can be taken.
        if (leading && Date.now() - lastRenewal > renewDeadlineMs) stopLeading();
        if (!stopped) timer = setTimeout(loop, retryMs);
      });
  };
  loop();

  return {
    isLeader: () => leading !== undefined,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const wasLeading = leading !== undefined;
      stopLeading();
      if (!wasLeading) return;
      try {
        const current = await options.client.get<LeaseObject>(type, options.name, {
          namespace: options.namespace,
        });
        if (current.spec?.holderIdentity !== options.identity || leaseExpired(current.spec, new Date()))
          return;
        await options.client.update(
          type,
          {
            ...current,
            spec: {
              ...current.spec,
              holderIdentity: '',
              leaseDurationSeconds: 1,
              renewTime: microTime(new Date()),
            },
          },
          { namespace: options.namespace },
        );
      } catch (error) {
        options.onError?.(error);
      }
    },
  };
}
