import { latest, nodeHealth } from './node-health.util';

const at = (time: string): Date => new Date(`2026-11-23T${time}Z`);

describe('node health', () => {
  const base = { gracePeriodMs: 15_000, evictionTimeoutMs: 30_000 };
  it.each([
    ['10:00:10', 'healthy'],
    ['10:00:15', 'healthy'],
    ['10:00:16', 'unreachable'],
    ['10:00:45', 'unreachable'],
    ['10:00:46', 'evict'],
  ])('heartbeat at 10:00:00, now %s → %s', (now, kind) => {
    expect(nodeHealth({ ...base, heartbeat: { lastHeartbeat: at('10:00:00') }, now: at(now) }).kind).toBe(
      kind,
    );
  });

  it('gives a node that never reported the grace period from its registration', () => {
    expect(nodeHealth({ ...base, heartbeat: { createdAt: at('10:00:00') }, now: at('10:00:10') }).kind).toBe(
      'healthy',
    );
    const late = nodeHealth({ ...base, heartbeat: { createdAt: at('10:00:00') }, now: at('10:00:20') });
    expect(late).toEqual({ kind: 'unreachable', since: at('10:00:15') });
  });

  it('takes the newest heartbeat', () => {
    expect(latest('2026-11-23T10:00:00Z', undefined, '2026-11-23T10:00:05.5Z', 'garbage')).toEqual(
      at('10:00:05.5'),
    );
    expect(latest(undefined)).toBeUndefined();
  });
});
