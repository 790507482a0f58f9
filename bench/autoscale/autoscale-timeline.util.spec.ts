import { secondsSince, stageSeconds, type TimelineMark } from './autoscale-timeline.util';

describe('secondsSince', () => {
  test.each<[string, number, number | undefined, number | null]>([
    ['a mark after the origin', 1000, 10_400, 9.4],
    ['rounded to the millisecond', 0, 1234.5678, 1.235],
    ['the origin itself', 500, 500, 0],
    ['a mark never seen', 1000, undefined, null],
  ])('%s', (_name, origin, at, expected) => {
    expect(secondsSince(origin, at)).toBe(expected);
  });
});

describe('stageSeconds', () => {
  const marks = (entries: Array<[string, number | undefined]>): TimelineMark[] =>
    entries.map(([name, atMs]) => ({ name, atMs }));

  test.each<[string, Array<[string, number | undefined]>, Record<string, number | null>]>([
    [
      'the worked example',
      [
        ['metrics', 6000],
        ['decision', 8500],
        ['bound', 8600],
        ['Running', 9400],
        ['Ready', 10_400],
      ],
      {
        'load → metrics': 5,
        'metrics → decision': 2.5,
        'decision → bound': 0.1,
        'bound → Running': 0.8,
        'Running → Ready': 1,
      },
    ],
    [
      'a missing mark makes both spans around it null',
      [
        ['metrics', 6000],
        ['decision', undefined],
        ['bound', 8600],
      ],
      { 'load → metrics': 5, 'metrics → decision': null, 'decision → bound': null },
    ],
    [
      'marks seen out of order count as 0',
      [
        ['Running', 9400],
        ['Ready', 9300],
      ],
      { 'load → Running': 8.4, 'Running → Ready': 0 },
    ],
    ['no marks', [], {}],
  ])('%s', (_name, entries, expected) => {
    expect(stageSeconds({ originName: 'load', originMs: 1000, marks: marks(entries) })).toEqual(expected);
  });
});
