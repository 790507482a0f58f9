// The arithmetic of lease-based leader election, as client-go's leaderelection package does it.
//
// Worked example: leaseDurationSeconds 15, our clock at 10:00:20, the lease held by "b" with
// renewTime 10:00:10 → expires at 10:00:25 → still b's; at 10:00:26 it has expired and anyone may
// take it (leaseTransitions + 1). Candidates always write with the lease's resourceVersion, so two
// that see it expire at the same moment cannot both win: the second write is a 409 Conflict.

export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** Lease times are MicroTime: RFC 3339 with microseconds. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function leaseExpired(lease: LeaseRecord, now: Date): boolean {
  if (!lease.holderIdentity) return true;
  const renewed = Date.parse(lease.renewTime ?? lease.acquireTime ?? '');
  if (Number.isNaN(renewed)) return true;
  return renewed + (lease.leaseDurationSeconds ?? 0) * 1000 < now.getTime();
}

/** The spec to write when `identity` takes or keeps the lease; undefined when another holds it. */
export function nextLease(options: {
  current: LeaseRecord | undefined;
  identity: string;
  leaseDurationSeconds: number;
  now: Date;
}): LeaseRecord | undefined {
  const { current, identity, leaseDurationSeconds, now } = options;
  const stamp = microTime(now);
  if (!current) {
    return {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: 0,
    };
  }
  if (current.holderIdentity === identity) return { ...current, leaseDurationSeconds, renewTime: stamp };
  if (!leaseExpired(current, now)) return undefined;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: stamp,
    renewTime: stamp,
    leaseTransitions: (current.leaseTransitions ?? 0) + (current.holderIdentity ? 1 : 0),
  };
}
