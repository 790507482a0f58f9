import { cgroupLimitsOf, oomFileOf } from './container-cgroups.adapter';

describe('container cgroups adapter', () => {
  it('maps container resources to cgroup limits, leaving absent ones unset', () => {
    expect(cgroupLimitsOf({ memoryBytes: 64 << 20, cpuMillicores: 500, pidsLimit: 20 })).toEqual({
      memoryBytes: 64 << 20,
      cpuMillicores: 500,
      pidsMax: 20,
    });
    expect(cgroupLimitsOf({})).toEqual({});
  });

  it('finds the OOM counter file on v2 and in the v1 memory hierarchy', () => {
    expect(oomFileOf({ version: 'v2', directories: ['/sys/fs/cgroup/flotilla/c1'] })).toBe(
      '/sys/fs/cgroup/flotilla/c1/memory.events',
    );
    expect(
      oomFileOf({
        version: 'v1',
        directories: [
          '/sys/fs/cgroup/cpu,cpuacct/flotilla/c1',
          '/sys/fs/cgroup/memory/flotilla/c1',
          '/sys/fs/cgroup/pids/flotilla/c1',
        ],
      }),
    ).toBe('/sys/fs/cgroup/memory/flotilla/c1/memory.oom_control');
    expect(oomFileOf({ version: 'v1', directories: ['/sys/fs/cgroup/pids/flotilla/c1'] })).toBeUndefined();
  });
});
