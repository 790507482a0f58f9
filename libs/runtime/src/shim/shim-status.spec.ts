import { parseProcessIdentity, parseShimStatus, processStartTime } from './shim-status';

describe('shim status files', () => {
  it('reads an exit status with its OOM hint and start error', () => {
    expect(
      parseShimStatus('exit_code=137\nsignal=9\noom_killed=1\nfinished_at=2026-11-23T10:00:00.1Z\n'),
    ).toEqual({
      exitCode: 137,
      signal: 9,
      oomKilled: true,
      finishedAt: '2026-11-23T10:00:00.1Z',
    });
    expect(
      parseShimStatus(
        'exit_code=127\nsignal=0\noom_killed=0\nfinished_at=x\nerror=executable file not found: nope\n',
      ).error,
    ).toBe('executable file not found: nope');
    expect(() => parseShimStatus('garbage')).toThrow('malformed');
  });

  it('reads pid files and matches them to the live process', async () => {
    expect(parseProcessIdentity('42 12345\n')).toEqual({ pid: 42, startTime: '12345' });
    expect(() => parseProcessIdentity('42')).toThrow('malformed');
    expect(await processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(await processStartTime(2 ** 22 + 1)).toBeUndefined();
  });
});
