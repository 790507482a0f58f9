import { cpuMsFromProcStat, cpuMsPerOperation } from './process-cpu.util';

const line = (comm: string, utime: number, stime: number): string =>
  `1234 (${comm}) S 1 1234 1234 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 8 0 5000 0 0`;

describe('process CPU from /proc/<pid>/stat', () => {
  it.each([
    ['etcd', 250, 50, 100, 3000],
    ['node', 0, 0, 100, 0],
    ['a b) (c', 7, 3, 100, 100],
    ['etcd', 250, 50, 250, 1200],
  ])('%s with utime %d stime %d at %d Hz is %d ms', (comm, utime, stime, hz, expected) => {
    expect(cpuMsFromProcStat(line(comm, utime, stime), hz)).toBe(expected);
  });

  it('refuses text that is not a stat line', () => {
    expect(() => cpuMsFromProcStat('garbage', 100)).toThrow(/not a \/proc/);
    expect(() => cpuMsFromProcStat('1 (x) S 1', 100)).toThrow(/no utime/);
  });

  it.each([
    [1000, 1600, 300, 2],
    [0, 10, 3, 3.33],
    [5, 5, 0, 0],
  ])('from %d to %d ms over %d operations is %d ms each', (before, after, operations, expected) => {
    expect(cpuMsPerOperation({ before, after, operations })).toBe(expected);
  });
});
