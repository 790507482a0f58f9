import { BenchUsageError, benchUsage, parseBenchOptions, type BenchCommand } from './bench-options';

const spec = {
  command: 'node dist/bench/example.bench.js',
  summary: 'Example bench.',
  options: {
    pods: { kind: 'number', default: 100, help: 'pods to create' },
    'start-delay-ms': { kind: 'number', default: 5, min: 0, help: 'delay before Running' },
    home: { kind: 'string', valueName: 'DIR', help: 'a kept cluster' },
    concurrency: { kind: 'string', valueName: 'LIST', default: '1,64', help: 'client concurrencies' },
    keep: { kind: 'flag', help: 'leave the cluster up' },
  },
} satisfies BenchCommand;

describe('parseBenchOptions', () => {
  it('gives the defaults when nothing is passed', () => {
    expect(parseBenchOptions(spec, [])).toEqual({
      pods: 100,
      'start-delay-ms': 5,
      home: undefined,
      concurrency: '1,64',
      keep: false,
    });
  });

  it('reads numbers, strings and flags in both spellings', () => {
    const values = parseBenchOptions(spec, [
      '--pods',
      '30',
      '--home=/tmp/x',
      '--keep',
      '--start-delay-ms',
      '0',
    ]);
    expect(values).toEqual({
      pods: 30,
      'start-delay-ms': 0,
      home: '/tmp/x',
      concurrency: '1,64',
      keep: true,
    });
  });

  it.each([
    [['--pods', 'many'], "--pods wants a number ≥ 1, not 'many'"],
    [['--pods', '0'], "--pods wants a number ≥ 1, not '0'"],
    [['--pods', ''], "--pods wants a number ≥ 1, not ''"],
    [['--start-delay-ms=-1'], "--start-delay-ms wants a number ≥ 0, not '-1'"],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseBenchOptions(spec, argv)).toThrow(new BenchUsageError(message));
  });

  it('refuses an unknown option, a missing value and a stray argument', () => {
    expect(() => parseBenchOptions(spec, ['--nodez', '3'])).toThrow(/Unknown option '--nodez'/);
    expect(() => parseBenchOptions(spec, ['--pods'])).toThrow(/--pods <value>' argument missing/);
    expect(() => parseBenchOptions(spec, ['100'])).toThrow(BenchUsageError);
  });
});

describe('benchUsage', () => {
  it('lists every option with its value name and default', () => {
    expect(benchUsage(spec)).toBe(
      [
        'usage: node dist/bench/example.bench.js [options]',
        '',
        'Example bench.',
        '',
        'options:',
        '  --pods N            pods to create (default 100)',
        '  --start-delay-ms N  delay before Running (default 5)',
        '  --home DIR          a kept cluster',
        '  --concurrency LIST  client concurrencies (default 1,64)',
        '  --keep              leave the cluster up',
        '  --help              print this and exit',
        '',
      ].join('\n'),
    );
  });
});
