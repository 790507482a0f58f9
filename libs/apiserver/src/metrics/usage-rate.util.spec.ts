import { cpuRate, formatBytes, formatCores, formatWindow } from './usage-rate.util';

describe('cpuRate', () => {
  const at = (seconds: number): string =>
    new Date(Date.UTC(2026, 10, 23, 10, 0, 0) + seconds * 1000).toISOString();

  it.each([
    {
      name: 'the worked example',
      previous: [0, 1_000_000_000n],
      latest: [5, 2_250_000_000n],
      nanocores: 250_000_000n,
      windowMs: 5000,
    },
    {
      name: 'one full core',
      previous: [0, 0n],
      latest: [2, 2_000_000_000n],
      nanocores: 1_000_000_000n,
      windowMs: 2000,
    },
    { name: 'idle', previous: [0, 7n], latest: [5, 7n], nanocores: 0n, windowMs: 5000 },
    {
      name: 'a fractional window',
      previous: [0, 0n],
      latest: [4.998, 499_800_000n],
      nanocores: 100_000_000n,
      windowMs: 4998,
    },
    {
      name: 'two cores busy',
      previous: [10, 5_000_000_000n],
      latest: [15, 15_000_000_000n],
      nanocores: 2_000_000_000n,
      windowMs: 5000,
    },
  ] as const)('$name', ({ previous, latest, nanocores, windowMs }) => {
    const rate = cpuRate(
      { time: at(previous[0]), cpuNanos: previous[1] },
      { time: at(latest[0]), cpuNanos: latest[1] },
    );
    expect(rate).toEqual({ nanocores, windowMs, timestamp: at(latest[0]) });
  });

  it.each([
    { name: 'the counter went backwards (a new cgroup)', previous: [0, 10n], latest: [5, 9n] },
    { name: 'the same instant', previous: [5, 0n], latest: [5, 100n] },
    { name: 'samples out of order', previous: [6, 0n], latest: [5, 100n] },
    { name: 'samples 50 ms apart', previous: [0, 0n], latest: [0.05, 100n] },
  ] as const)('is unknown when $name', ({ previous, latest }) => {
    expect(
      cpuRate({ time: at(previous[0]), cpuNanos: previous[1] }, { time: at(latest[0]), cpuNanos: latest[1] }),
    ).toBeUndefined();
  });

  it('is unknown for an unreadable time', () => {
    expect(cpuRate({ time: 'yesterday', cpuNanos: 0n }, { time: at(0), cpuNanos: 1n })).toBeUndefined();
  });
});

describe('quantities as metrics-server serves them', () => {
  it.each([
    [250_000_000n, '250m'],
    [1_000_000_000n, '1'],
    [1_234_567n, '1234567n'],
    [5_000n, '5u'],
    [0n, '0'],
  ])('%s nanocores is %s', (nanocores, text) => {
    expect(formatCores(nanocores)).toBe(text);
  });

  it.each([
    [64n * 1024n * 1024n, '64Mi'],
    [12_345n, '12345'],
    [3n * 1024n, '3Ki'],
    [0n, '0'],
  ])('%s bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatWindow', () => {
  it.each([
    [5000, '5s'],
    [4998, '4.998s'],
    [15_500, '15.5s'],
    [500, '500ms'],
    [90_000, '1m30s'],
    [3_600_000, '1h0m0s'],
    [0, '0s'],
  ])('%s ms is %s', (ms, text) => {
    expect(formatWindow(ms)).toBe(text);
  });
});
