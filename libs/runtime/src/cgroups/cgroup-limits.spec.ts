import {
  cgroupPathSegments,
  countCpuList,
  cpuQuotaMicros,
  cpuWeightFromShares,
  validateLimits,
} from './cgroup-limits';

describe('cgroup limits', () => {
  it('converts shares to weight with the Kubernetes formula, clamped to the v1 range', () => {
    expect(cpuWeightFromShares(2)).toBe(1);
    expect(cpuWeightFromShares(1024)).toBe(39);
    expect(cpuWeightFromShares(262_144)).toBe(10_000);
    expect(cpuWeightFromShares(1)).toBe(1);
    expect(cpuWeightFromShares(1_000_000)).toBe(10_000);
  });

  it('turns millicores into a CFS quota with the kernel minimum', () => {
    expect(cpuQuotaMicros(1000)).toBe(100_000);
    expect(cpuQuotaMicros(250)).toBe(25_000);
    expect(cpuQuotaMicros(1500, 50_000)).toBe(75_000);
    expect(cpuQuotaMicros(1)).toBe(1_000);
  });

  it('accepts sane limits and names the field it rejects', () => {
    expect(() =>
      validateLimits({ memoryBytes: 1 << 30, cpuMillicores: 500, pidsMax: 64, cpusetCpus: '0-3,6' }),
    ).not.toThrow();
    expect(() => validateLimits({ memoryBytes: 100 })).toThrow(/memoryBytes must be an integer from 4096/);
    expect(() => validateLimits({ cpuMillicores: 0 })).toThrow(/cpuMillicores/);
    expect(() => validateLimits({ pidsMax: Number.NaN })).toThrow(/pidsMax/);
    expect(() => validateLimits({ cpuPeriodMicros: 10 })).toThrow(/cpuPeriodMicros/);
  });

  it('splits a safe relative cgroup path', () => {
    expect(cgroupPathSegments('flotilla/pod-1/ctr_2')).toEqual(['flotilla', 'pod-1', 'ctr_2']);
    expect(() => cgroupPathSegments('flotilla/../../etc')).toThrow(/is not valid/);
  });

  it('counts CPUs in a kernel list', () => {
    expect(countCpuList('0-3,6\n')).toBe(5);
    expect(countCpuList('1')).toBe(1);
  });
});
