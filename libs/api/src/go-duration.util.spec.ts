import { parseGoDurationMs } from './go-duration.util';

describe('parseGoDurationMs', () => {
  it.each<[string, number | undefined]>([
    ['5m0s', 300_000],
    ['30s', 30_000],
    ['15s', 15_000],
    ['1m0s', 60_000],
    ['1m30s', 90_000],
    ['1.5m', 90_000],
    ['10.5s', 10_500],
    ['250ms', 250],
    ['1500us', 1.5],
    ['1h2m3s', 3_723_000],
    ['0s', 0],
    ['0', 0],
    ['', undefined],
    ['10', undefined],
    ['15', undefined],
    ['5 m', undefined],
    ['15 s', undefined],
    ['-1s', undefined],
    ['1d', undefined],
  ])('%j → %p', (text, ms) => {
    expect(parseGoDurationMs(text)).toBe(ms);
  });
});
