import { leaseExpired, microTime, nextLease } from './leader-election.util';

const at = (time: string): Date => new Date(`2026-11-23T${time}Z`);

describe('leader election arithmetic', () => {
  it('writes MicroTime', () => {
    expect(microTime(at('10:00:00.123'))).toBe('2026-11-23T10:00:00.123000Z');
  });

  it.each([
    [
      'held and fresh',
      { holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: microTime(at('10:00:10')) },
      '10:00:20',
      false,
    ],
    [
      'held and stale',
      { holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: microTime(at('10:00:10')) },
      '10:00:26',
      true,
    ],
    [
      'released',
      { holderIdentity: '', leaseDurationSeconds: 15, renewTime: microTime(at('10:00:10')) },
      '10:00:11',
      true,
    ],
    ['without times', { holderIdentity: 'b' }, '10:00:11', true],
  ])('a lease %s has expired: %s', (_label, lease, now, expected) => {
    expect(leaseExpired(lease, at(now))).toBe(expected);
  });

  it.each([
    ['creates a new lease', undefined, 'a', { holderIdentity: 'a', leaseTransitions: 0 }],
    [
      'renews its own lease',
      {
        holderIdentity: 'a',
        leaseTransitions: 3,
        acquireTime: 'x',
        renewTime: microTime(at('10:00:19')),
        leaseDurationSeconds: 15,
      },
      'a',
      { holderIdentity: 'a', leaseTransitions: 3, acquireTime: 'x' },
    ],
    [
      'waits while another holds it',
      { holderIdentity: 'b', renewTime: microTime(at('10:00:19')), leaseDurationSeconds: 15 },
      'a',
      undefined,
    ],
    [
      'takes an expired lease',
      {
        holderIdentity: 'b',
        leaseTransitions: 3,
        renewTime: microTime(at('10:00:00')),
        leaseDurationSeconds: 15,
      },
      'a',
      { holderIdentity: 'a', leaseTransitions: 4 },
    ],
  ])('%s', (_label, current, identity, expected) => {
    const next = nextLease({ current, identity, leaseDurationSeconds: 15, now: at('10:00:20') });
    if (expected === undefined) expect(next).toBeUndefined();
    else expect(next).toMatchObject({ ...expected, renewTime: microTime(at('10:00:20')) });
  });
});
