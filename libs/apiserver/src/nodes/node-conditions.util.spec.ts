import type { NodeCondition } from '@flotilla/api';
import { HeartbeatError, mergeHeartbeat, type ReportedCondition } from './node-conditions.util';

const ready = (status: string, extra: Partial<ReportedCondition> = {}): ReportedCondition => ({
  type: 'Ready',
  status,
  reason: 'AgentReady',
  message: '',
  ...extra,
});

const stored: NodeCondition = {
  type: 'Ready',
  status: 'True',
  reason: 'AgentReady',
  lastHeartbeatTime: '2026-11-23T10:00:00Z',
  lastTransitionTime: '2026-11-23T10:00:00Z',
};

describe('mergeHeartbeat', () => {
  it.each([
    [
      'same status, 10 s later',
      ready('True'),
      '2026-11-23T10:00:10Z',
      false,
      '2026-11-23T10:00:00Z',
      '2026-11-23T10:00:00Z',
    ],
    [
      'same status, a report interval later',
      ready('True'),
      '2026-11-23T10:01:00Z',
      true,
      '2026-11-23T10:01:00Z',
      '2026-11-23T10:00:00Z',
    ],
    [
      'status changed',
      ready('False'),
      '2026-11-23T10:00:05Z',
      true,
      '2026-11-23T10:00:05Z',
      '2026-11-23T10:00:05Z',
    ],
    [
      'reason changed',
      ready('True', { reason: 'Other' }),
      '2026-11-23T10:00:05Z',
      true,
      '2026-11-23T10:00:05Z',
      '2026-11-23T10:00:00Z',
    ],
  ])('%s', (_case, reported, now, write, heartbeat, transition) => {
    const merged = mergeHeartbeat({
      existing: [stored],
      reported: [reported],
      now: new Date(now),
      reportIntervalMs: 60_000,
    });
    expect(merged.write).toBe(write);
    expect(merged.conditions).toHaveLength(1);
    expect(merged.conditions[0]).toMatchObject({
      lastHeartbeatTime: heartbeat,
      lastTransitionTime: transition,
    });
  });

  it('adds new conditions after the existing ones and keeps conditions others set', () => {
    const network: NodeCondition = { type: 'NetworkUnavailable', status: 'False' };
    const merged = mergeHeartbeat({
      existing: [network, stored],
      reported: [{ type: 'MemoryPressure', status: 'False', reason: '', message: '' }, ready('True')],
      now: new Date('2026-11-23T10:00:10Z'),
      reportIntervalMs: 60_000,
    });
    expect(merged.write).toBe(true);
    expect(merged.conditions.map((condition) => condition.type)).toEqual([
      'NetworkUnavailable',
      'Ready',
      'MemoryPressure',
    ]);
    expect(merged.conditions[2]).toEqual({
      type: 'MemoryPressure',
      status: 'False',
      lastHeartbeatTime: '2026-11-23T10:00:10Z',
      lastTransitionTime: '2026-11-23T10:00:10Z',
    });
  });

  it('writes the first heartbeat of a node without conditions', () => {
    const merged = mergeHeartbeat({
      existing: [],
      reported: [ready('True')],
      now: new Date('2026-11-23T10:00:00Z'),
      reportIntervalMs: 60_000,
    });
    expect(merged).toEqual({ write: true, conditions: [{ ...stored }] });
  });

  it.each([
    [[ready('Maybe')], 'status of True, False or Unknown'],
    [[ready('True'), ready('True')], 'reports condition Ready twice'],
    [[{ type: '', status: 'True', reason: '', message: '' }], 'needs a type'],
  ])('rejects a malformed heartbeat %#', (reported, message) => {
    expect(() => mergeHeartbeat({ existing: [], reported, now: new Date(), reportIntervalMs: 1 })).toThrow(
      HeartbeatError,
    );
    expect(() => mergeHeartbeat({ existing: [], reported, now: new Date(), reportIntervalMs: 1 })).toThrow(
      message,
    );
  });
});
