import {
  DEFAULT_EVICTION_HARD,
  EvictionThresholdError,
  memoryAvailable,
  noPressureConditions,
  parseEvictionHard,
  pressureConditions,
  thresholdAmount,
  thresholdsMet,
  type EvictionThreshold,
  type PressureState,
  type SignalObservations,
} from './eviction-threshold.util';

const Mi = 1024 * 1024;

describe('parseEvictionHard', () => {
  it.each([
    [
      'memory.available<200Mi',
      [{ signal: 'memory.available', value: { kind: 'quantity', amount: 200 * Mi } }],
    ],
    ['nodefs.available<5%', [{ signal: 'nodefs.available', value: { kind: 'percentage', percent: 5 } }]],
    [
      'memory.available<200Mi,nodefs.available<5%',
      [
        { signal: 'memory.available', value: { kind: 'quantity', amount: 200 * Mi } },
        { signal: 'nodefs.available', value: { kind: 'percentage', percent: 5 } },
      ],
    ],
    [' pid.available < 1000 , ', [{ signal: 'pid.available', value: { kind: 'quantity', amount: 1000 } }]],
    [
      'nodefs.inodesFree<7.5%',
      [{ signal: 'nodefs.inodesFree', value: { kind: 'percentage', percent: 7.5 } }],
    ],
    ['imagefs.available<1G', [{ signal: 'imagefs.available', value: { kind: 'quantity', amount: 1e9 } }]],
    // Zero switches a signal off; an empty list watches nothing.
    ['memory.available<0,nodefs.available<0%', []],
    ['', []],
  ])('%j', (text, expected) => {
    expect(parseEvictionHard(text)).toMatchObject(expected);
  });

  it('keeps what the user wrote for messages', () => {
    expect(parseEvictionHard('memory.available<200Mi')[0]?.text).toBe('memory.available<200Mi');
  });

  it('parses the defaults into six thresholds', () => {
    expect(parseEvictionHard(DEFAULT_EVICTION_HARD).map((threshold) => threshold.signal)).toEqual([
      'memory.available',
      'nodefs.available',
      'nodefs.inodesFree',
      'imagefs.available',
      'imagefs.inodesFree',
      'pid.available',
    ]);
  });

  it.each([
    ['memory.available=200Mi', 'only "<" is supported'],
    ['memory.available>200Mi', 'only "<" is supported'],
    ['memory.available200Mi', 'is not <signal><<value>'],
    ['memory.free<200Mi', 'unknown signal "memory.free"; use one of memory.available'],
    ['memory.available<lots', '"lots" is neither a quantity'],
    ['memory.available<-1Mi', 'cannot be negative'],
    ['nodefs.available<101%', 'from 0% to 100%'],
    ['nodefs.available<-5%', 'from 0% to 100%'],
    ['nodefs.available<', 'has no value after "<"'],
    ['memory.available<1Gi,memory.available<2Gi', 'given twice'],
  ])('rejects %j', (text, message) => {
    expect(() => parseEvictionHard(text)).toThrow(EvictionThresholdError);
    expect(() => parseEvictionHard(text)).toThrow(message);
  });
});

describe('thresholdAmount', () => {
  it.each([
    [{ kind: 'quantity', amount: 100 * Mi } as const, 1024 * Mi, 100 * Mi],
    [{ kind: 'percentage', percent: 10 } as const, 1000, 100],
    [{ kind: 'percentage', percent: 7.5 } as const, 2000, 150],
  ])('%j of %d is %d', (value, capacity, expected) => {
    expect(thresholdAmount(value, capacity)).toBe(expected);
  });
});

describe('memoryAvailable', () => {
  it.each([
    // limit, usage, inactive_file, available
    [512 * Mi, 400 * Mi, 0, 112 * Mi],
    [512 * Mi, 400 * Mi, 300 * Mi, 412 * Mi],
    // inactive_file can exceed usage for a moment (counted at different times): working set is 0.
    [512 * Mi, 10 * Mi, 20 * Mi, 512 * Mi],
    // over the limit (v1 usage counts kernel memory too): negative, always under pressure.
    [100 * Mi, 120 * Mi, 0, -20 * Mi],
  ])('limit %d usage %d inactive %d → %d', (limit, usage, inactiveFile, expected) => {
    expect(memoryAvailable({ limit, usage, inactiveFile })).toBe(expected);
  });
});

describe('thresholdsMet', () => {
  const thresholds = parseEvictionHard('memory.available<200Mi,nodefs.available<10%,pid.available<5%');
  it.each<[string, SignalObservations, string[]]>([
    ['nothing observed', {}, []],
    [
      'memory below, disk above',
      {
        'memory.available': { available: 112 * Mi, capacity: 512 * Mi },
        'nodefs.available': { available: 150 * Mi, capacity: 1024 * Mi },
      },
      ['memory.available<200Mi'],
    ],
    [
      'exactly at the threshold is not below it',
      { 'memory.available': { available: 200 * Mi, capacity: 512 * Mi } },
      [],
    ],
    [
      'disk and pids below',
      {
        'nodefs.available': { available: 100, capacity: 1001 },
        'pid.available': { available: 1000, capacity: 32768 },
      },
      ['nodefs.available<10%', 'pid.available<5%'],
    ],
  ])('%s', (_name, observations, expected) => {
    expect(thresholdsMet(thresholds, observations).map((threshold) => threshold.text)).toEqual(expected);
  });
});

describe('pressureConditions', () => {
  const memory = parseEvictionHard('memory.available<200Mi') as [EvictionThreshold];
  const disk = parseEvictionHard('nodefs.available<10%,imagefs.available<15%');
  const empty: PressureState = { lastObservedMs: {}, lastMet: {} };
  const statusOf = (conditions: Array<{ type: string; status: string; reason: string }>): string[] =>
    conditions.map((condition) => `${condition.type}=${condition.status}:${condition.reason}`);

  it('reports no pressure with nothing met', () => {
    const { conditions } = pressureConditions({ met: [], state: empty, nowMs: 0, transitionPeriodMs: 0 });
    expect(conditions).toEqual(noPressureConditions());
    expect(statusOf(conditions)).toEqual([
      'MemoryPressure=False:KubeletHasSufficientMemory',
      'DiskPressure=False:KubeletHasNoDiskPressure',
      'PIDPressure=False:KubeletHasSufficientPID',
    ]);
  });

  it('names every crossed threshold of a condition in its message', () => {
    const { conditions } = pressureConditions({ met: disk, state: empty, nowMs: 0, transitionPeriodMs: 0 });
    expect(conditions[1]).toEqual({
      type: 'DiskPressure',
      status: 'True',
      reason: 'KubeletHasDiskPressure',
      message: 'kubelet has disk pressure (nodefs.available<10%, imagefs.available<15%)',
    });
  });

  // The worked example: transition period 30 s, crossing at 0 s, clear from 10 s on.
  it.each([
    [0, true, 'MemoryPressure=True:KubeletHasInsufficientMemory'],
    [10_000, false, 'MemoryPressure=True:KubeletHasInsufficientMemory'],
    [30_000, false, 'MemoryPressure=True:KubeletHasInsufficientMemory'],
    [30_001, false, 'MemoryPressure=False:KubeletHasSufficientMemory'],
  ])('at %d ms (crossing: %s) → %s', (nowMs, crossing, expected) => {
    const first = pressureConditions({
      met: [memory[0]],
      state: empty,
      nowMs: 0,
      transitionPeriodMs: 30_000,
    });
    const { conditions } = pressureConditions({
      met: crossing ? [memory[0]] : [],
      state: first.state,
      nowMs,
      transitionPeriodMs: 30_000,
    });
    expect(statusOf(conditions)[0]).toBe(expected);
  });
});
