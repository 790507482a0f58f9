import { escapeShimValue, renderShimExecConfig, renderShimRunConfig, type ShimProcess } from './shim-config';

const process: ShimProcess = {
  args: ['/bin/sh', '-c', 'echo "a\tb"\necho \\done'],
  env: ['PATH=/bin', 'MULTI=one\ntwo'],
  cwd: '/work',
  uid: 1000,
  gid: 1000,
  additionalGids: [50],
  tty: false,
};

describe('shim configuration', () => {
  it('escapes backslash, newline and tab so every value stays on one line', () => {
    expect(escapeShimValue('a\\b\nc\td')).toBe('a\\\\b\\nc\\td');
    expect(() => escapeShimValue('nul\0byte')).toThrow('NUL byte');
  });

  it('renders a run configuration the C parser reads line by line', () => {
    const text = renderShimRunConfig({
      process,
      hostname: 'box',
      rootfs: '/state/c/rootfs',
      overlayOptions: 'lowerdir=/l,upperdir=/u,workdir=/w',
      readOnlyRootfs: false,
      mounts: [{ source: '/host/data', target: '/data', readOnly: true }],
      network: { mode: 'join', path: '/var/run/netns/c1' },
      cgroupProcsFiles: ['/sys/fs/cgroup/memory/c1/cgroup.procs', '/sys/fs/cgroup/pids/c1/cgroup.procs'],
      oomFile: '/sys/fs/cgroup/memory/c1/memory.oom_control',
      waitForAttach: false,
    });
    expect(text.split('\n')).toEqual([
      'arg=/bin/sh',
      'arg=-c',
      'arg=echo "a\\tb"\\necho \\\\done',
      'env=PATH=/bin',
      'env=MULTI=one\\ntwo',
      'cwd=/work',
      'uid=1000',
      'gid=1000',
      'group=50',
      'tty=0',
      'hostname=box',
      'rootfs=/state/c/rootfs',
      'overlay=lowerdir=/l,upperdir=/u,workdir=/w',
      'readonly_rootfs=0',
      'mount_source=/host/data',
      'mount_target=/data',
      'mount_readonly=1',
      'netns=/var/run/netns/c1',
      'cgroup_procs=/sys/fs/cgroup/memory/c1/cgroup.procs',
      'cgroup_procs=/sys/fs/cgroup/pids/c1/cgroup.procs',
      'oom_file=/sys/fs/cgroup/memory/c1/memory.oom_control',
      'wait_attach=0',
      '',
    ]);
  });

  it('gives the shim capabilities as one hexadecimal mask, and none (its built-in default) when unset', () => {
    const exec = (capabilities?: string[]): string[] =>
      renderShimExecConfig({
        process: { ...process, ...(capabilities ? { capabilities } : {}) },
        cgroupProcsFiles: [],
      })
        .split('\n')
        .filter((line) => line.startsWith('caps='));
    expect(exec(['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_SYS_ADMIN'])).toEqual(['caps=202001']);
    expect(exec([])).toEqual(['caps=0']);
    expect(exec()).toEqual([]);
  });

  it('names cgroups by directory: one line per v1 hierarchy, one v2 directory', () => {
    const base = {
      process,
      hostname: 'box',
      rootfs: '/r',
      readOnlyRootfs: false,
      mounts: [],
      network: { mode: 'new' } as const,
      cgroupProcsFiles: [],
      waitForAttach: false,
    };
    const v1 = renderShimRunConfig({
      ...base,
      cgroup: { version: 'v1', directories: ['/sys/fs/cgroup/memory/f/c1', '/sys/fs/cgroup/pids/f/c1'] },
    });
    expect(v1).toContain('cgroup_v1=/sys/fs/cgroup/memory/f/c1\ncgroup_v1=/sys/fs/cgroup/pids/f/c1\n');
    const v2 = renderShimExecConfig({
      process,
      cgroupProcsFiles: [],
      cgroup: { version: 'v2', directories: ['/sys/fs/cgroup/f/c1'] },
    });
    expect(v2.split('\n')).toContain('cgroup_v2=/sys/fs/cgroup/f/c1');
    expect(() =>
      renderShimRunConfig({ ...base, cgroup: { version: 'v2', directories: ['/a', '/b'] } }),
    ).toThrow('one directory');
    expect(() => renderShimRunConfig({ ...base, cgroup: { version: 'v1', directories: ['rel'] } })).toThrow(
      'absolute',
    );
  });

  it('renders an open stdin and an exit command with its own environment', () => {
    const text = renderShimRunConfig({
      process,
      hostname: 'box',
      rootfs: '/r',
      readOnlyRootfs: false,
      mounts: [],
      network: { mode: 'new' },
      cgroupProcsFiles: [],
      waitForAttach: false,
      openStdin: true,
      exitCommand: { args: ['/usr/bin/node', 'cli.js', 'rm', 'c1'], env: ['FLOTILLA_STATE_DIR=/s'] },
    });
    expect(text).toContain(
      'stdin=1\nexit_arg=/usr/bin/node\nexit_arg=cli.js\nexit_arg=rm\nexit_arg=c1\nexit_env=FLOTILLA_STATE_DIR=/s\n',
    );
    expect(() =>
      renderShimRunConfig({
        process,
        hostname: 'box',
        rootfs: '/r',
        readOnlyRootfs: false,
        mounts: [],
        network: { mode: 'new' },
        cgroupProcsFiles: [],
        waitForAttach: false,
        exitCommand: { args: ['node'], env: [] },
      }),
    ).toThrow('absolute');
  });

  it('renders a user namespace as uid_map and gid_map lines, their line breaks escaped', () => {
    const text = renderShimRunConfig({
      process,
      hostname: 'box',
      rootfs: '/r',
      overlayOptions: 'lowerdir=/l,upperdir=/u,workdir=/w',
      readOnlyRootfs: false,
      mounts: [],
      network: { mode: 'new' },
      cgroupProcsFiles: [],
      waitForAttach: false,
      uidMap: '0 100000 1000\n1000 200000 1',
      gidMap: '0 100000 65536',
    });
    expect(text.split('\n')).toEqual(
      expect.arrayContaining(['uid_map=0 100000 1000\\n1000 200000 1', 'gid_map=0 100000 65536']),
    );
  });

  it('refuses what the shim could not use safely', () => {
    const base = {
      process,
      hostname: 'box',
      rootfs: '/r',
      readOnlyRootfs: false,
      mounts: [],
      network: { mode: 'new' } as const,
      cgroupProcsFiles: [],
      waitForAttach: false,
    };
    expect(() => renderShimRunConfig({ ...base, rootfs: 'relative' })).toThrow('absolute');
    expect(() => renderShimRunConfig({ ...base, uidMap: '0 1 1' })).toThrow('both a uid map and a gid map');
    expect(() =>
      renderShimRunConfig({ ...base, mounts: [{ source: '/a', target: '/x/../../etc', readOnly: false }] }),
    ).toThrow('".."');
    expect(() => renderShimExecConfig({ process: { ...process, args: [] }, cgroupProcsFiles: [] })).toThrow(
      'needs a command',
    );
    expect(() => renderShimExecConfig({ process: { ...process, uid: -1 }, cgroupProcsFiles: [] })).toThrow(
      'user and group ids',
    );
  });
});
