import { ContainerError } from './container.error';
import {
  DEFAULT_CAPABILITIES,
  capabilityMask,
  normalizeCapability,
  resolveCapabilities,
} from './container-capabilities';

describe('container capabilities', () => {
  it("masks Docker's default set as the shim's built-in SHIM_DEFAULT_CAPS", () => {
    expect(capabilityMask(DEFAULT_CAPABILITIES)).toBe('a80425fb');
    expect(resolveCapabilities({})).toHaveLength(14);
  });

  it('accepts names with or without CAP_, in any case', () => {
    expect(normalizeCapability('net_raw')).toBe('CAP_NET_RAW');
    expect(normalizeCapability('CAP_SYS_ADMIN')).toBe('CAP_SYS_ADMIN');
    expect(normalizeCapability('all')).toBe('ALL');
    expect(() => normalizeCapability('CAP_FLY')).toThrow(ContainerError);
    expect(() => normalizeCapability('')).toThrow(/unknown capability/);
  });

  it('drops and adds from the default set, an add winning over a drop', () => {
    const dropped = resolveCapabilities({ drop: ['NET_RAW'] });
    expect(dropped).not.toContain('CAP_NET_RAW');
    expect(dropped).toHaveLength(13);
    expect(resolveCapabilities({ add: ['sys_admin'] })).toContain('CAP_SYS_ADMIN');
    expect(resolveCapabilities({ add: ['KILL'], drop: ['KILL'] })).toContain('CAP_KILL');
    expect(capabilityMask(resolveCapabilities({ add: ['SYS_ADMIN'] }))).toBe('a82425fb');
  });

  it('reads ALL as every capability (minus drops) when added, and as none (but the adds) when dropped', () => {
    expect(resolveCapabilities({ drop: ['ALL'], add: ['CHOWN', 'NET_BIND_SERVICE'] })).toEqual([
      'CAP_CHOWN',
      'CAP_NET_BIND_SERVICE',
    ]);
    const all = resolveCapabilities({ add: ['ALL'], drop: ['SYS_MODULE'] });
    expect(all).toContain('CAP_SYS_ADMIN');
    expect(all).not.toContain('CAP_SYS_MODULE');
    expect(all.length).toBeGreaterThan(30);
  });
});
