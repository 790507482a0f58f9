import {
  formatGoDuration,
  KUBERNETES_BACKOFF,
  restartDecision,
  type BackoffEntry,
  type RestartDecision,
} from './restart-backoff.util';

const s = (seconds: number): number => seconds * 1000;

describe('restartDecision (Kubernetes back-off: 10 s doubling to 5 min, reset after 10 min)', () => {
  it.each<[string, BackoffEntry | undefined, number, number, RestartDecision]>([
    [
      'first crash restarts at once',
      undefined,
      s(5),
      s(5),
      { action: 'restart', entry: { backoffMs: s(10), lastUpdateMs: s(5) } },
    ],
    [
      'second crash within the back-off waits',
      { backoffMs: s(10), lastUpdateMs: s(5) },
      s(7),
      s(7),
      { action: 'wait', untilMs: s(17), backoffMs: s(10) },
    ],
    [
      'the back-off has passed: restart and double',
      { backoffMs: s(10), lastUpdateMs: s(5) },
      s(7),
      s(17),
      { action: 'restart', entry: { backoffMs: s(20), lastUpdateMs: s(17) } },
    ],
    [
      'doubling stops at the cap',
      { backoffMs: s(160), lastUpdateMs: s(100) },
      s(110),
      s(270),
      { action: 'restart', entry: { backoffMs: s(300), lastUpdateMs: s(270) } },
    ],
    [
      'the cap holds',
      { backoffMs: s(300), lastUpdateMs: s(100) },
      s(110),
      s(410),
      { action: 'restart', entry: { backoffMs: s(300), lastUpdateMs: s(410) } },
    ],
    [
      'at the cap, a crash waits five minutes',
      { backoffMs: s(300), lastUpdateMs: s(100) },
      s(110),
      s(111),
      { action: 'wait', untilMs: s(410), backoffMs: s(300) },
    ],
    [
      'ran more than 10 min since the last restart: starts over',
      { backoffMs: s(300), lastUpdateMs: s(100) },
      s(701),
      s(701),
      { action: 'restart', entry: { backoffMs: s(10), lastUpdateMs: s(701) } },
    ],
    [
      'ran exactly 10 min: not yet reset',
      { backoffMs: s(40), lastUpdateMs: s(100) },
      s(700),
      s(700),
      { action: 'wait', untilMs: s(740), backoffMs: s(40) },
    ],
  ])('%s', (_label, entry, finishedAtMs, nowMs, expected) => {
    expect(
      restartDecision({ policy: KUBERNETES_BACKOFF, ...(entry ? { entry } : {}), finishedAtMs, nowMs }),
    ).toEqual(expected);
  });

  it('takes a shorter policy for tests', () => {
    const policy = { initialMs: 100, maxMs: 400 };
    const first = restartDecision({ policy, finishedAtMs: 0, nowMs: 0 });
    expect(first).toEqual({ action: 'restart', entry: { backoffMs: 100, lastUpdateMs: 0 } });
  });
});

describe('formatGoDuration', () => {
  it.each([
    [0, '0s'],
    [s(10), '10s'],
    [s(80), '1m20s'],
    [s(300), '5m0s'],
    [1500, '1.5s'],
    [s(3720), '1h2m0s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });
});
