import { parseGoDuration, parseHealthcheck } from './healthcheck.util';

describe('parseGoDuration', () => {
  it.each([
    ['30s', 30_000_000_000],
    ['1m30s', 90_000_000_000],
    ['1m30.5s', 90_500_000_000],
    ['1.5h', 5_400_000_000_000],
    ['250ms', 250_000_000],
    ['10us', 10_000],
    ['7ns', 7],
    ['0', 0],
    ['.5s', 500_000_000],
  ])('%s is %d ns', (text, nanos) => {
    expect(parseGoDuration(text)).toBe(nanos);
  });

  it.each(['', '30', 's', '1x', '1m 30s', '-1s', '1s2'])('refuses %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe('parseHealthcheck', () => {
  it.each([
    [
      'CMD curl -f http://localhost/ || exit 1',
      { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'] },
    ],
    [
      'CMD ["wget", "-q", "-O-", "http://localhost/"]',
      { Test: ['CMD', 'wget', '-q', '-O-', 'http://localhost/'] },
    ],
    ['cmd true', { Test: ['CMD-SHELL', 'true'] }],
    ['NONE', { Test: ['NONE'] }],
    [
      '--interval=5s --timeout=2s --start-period=0s --start-interval=1s --retries=4 CMD true',
      {
        Test: ['CMD-SHELL', 'true'],
        Interval: 5_000_000_000,
        Timeout: 2_000_000_000,
        StartPeriod: 0,
        StartInterval: 1_000_000_000,
        Retries: 4,
      },
    ],
    ['--retries=0 CMD ["true"]', { Test: ['CMD', 'true'], Retries: 0 }],
  ])('HEALTHCHECK %s', (text, expected) => {
    expect(parseHealthcheck(text, 3)).toEqual(expected);
  });

  it.each([
    ['', 'needs CMD'],
    ['CMD', 'needs CMD'],
    ['RUN true', 'needs CMD'],
    ['CMD []', 'no command'],
    ['NONE CMD true', 'NONE takes no options'],
    ['--interval=5s NONE', 'NONE takes no options'],
    ['--interval=5 CMD true', 'give a duration'],
    ['--interval=0s CMD true', 'minimum of 1ms'],
    ['--retries=-1 CMD true', 'whole number'],
    ['--every=5s CMD true', '--every is unknown'],
  ])('refuses HEALTHCHECK %j with a reason and the line', (text, reason) => {
    expect(() => parseHealthcheck(text, 7)).toThrow(reason);
    expect(() => parseHealthcheck(text, 7)).toThrow('line 7');
  });
});
