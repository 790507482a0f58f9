import { HostUsageFormatError, hostCpuNanos, hostMemoryWorkingSetBytes } from './host-usage.util';

describe('hostCpuNanos', () => {
  it.each([
    {
      name: 'the worked example',
      stat: 'cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0',
      nanos: 1_600_000_000n,
    },
    { name: 'steal counts as busy', stat: 'cpu  0 0 0 999 999 0 0 7 0 0', nanos: 70_000_000n },
    { name: 'an old kernel with fewer columns', stat: 'cpu  10 0 10 100', nanos: 200_000_000n },
    { name: 'an idle machine', stat: 'cpu  0 0 0 123456 0 0 0 0 0 0', nanos: 0n },
  ])('$name', ({ stat, nanos }) => {
    expect(hostCpuNanos(stat)).toBe(nanos);
  });

  it('refuses a file without the aggregate line', () => {
    expect(() => hostCpuNanos('cpu0 1 2 3 4\n')).toThrow(HostUsageFormatError);
  });
});

describe('hostMemoryWorkingSetBytes', () => {
  it.each([
    {
      name: 'the worked example',
      meminfo: 'MemTotal:        8000 kB\nMemFree:         1000 kB\nInactive(file):  2000 kB\n',
      bytes: 5_120_000,
    },
    { name: 'no Inactive(file) line', meminfo: 'MemTotal: 4 kB\nMemFree: 1 kB\n', bytes: 3 * 1024 },
    {
      name: 'more cache than use never goes negative',
      meminfo: 'MemTotal: 10 kB\nMemFree: 5 kB\nInactive(file): 9 kB\n',
      bytes: 0,
    },
  ])('$name', ({ meminfo, bytes }) => {
    expect(hostMemoryWorkingSetBytes(meminfo)).toBe(bytes);
  });

  it('refuses a file without MemTotal', () => {
    expect(() => hostMemoryWorkingSetBytes('MemFree: 1 kB\n')).toThrow(HostUsageFormatError);
  });
});
