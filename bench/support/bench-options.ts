// Command-line options for the benchmarks: each bench declares its options once, and gets --help,
// a clear error for an unknown option or a bad value (exit 2), and typed values. A bench is long and
// holds a shared lock, so a mistyped flag must stop it before it starts, never fall back silently.
import { parseArgs } from 'node:util';

export type BenchOption =
  | {
      kind: 'number';
      default: number;
      help: string;
      /** The smallest value accepted; 1 unless set (counts and sizes). */
      min?: number;
    }
  | { kind: 'string'; help: string; valueName: string; default?: string }
  | { kind: 'flag'; help: string };

export interface BenchCommand {
  /** As the user runs it, e.g. `node dist/bench/scheduler/scheduler.bench.js`. */
  command: string;
  /** One or two sentences: what the bench measures and against which anchor. */
  summary: string;
  options: Record<string, BenchOption>;
}

type OptionValue<Option extends BenchOption> = Option extends { kind: 'number' }
  ? number
  : Option extends { kind: 'flag' }
    ? boolean
    : Option extends { kind: 'string'; default: string }
      ? string
      : string | undefined;

export type BenchOptionValues<Options extends Record<string, BenchOption>> = {
  [Name in keyof Options]: OptionValue<Options[Name]>;
};

export class BenchUsageError extends Error {}

export function benchUsage(spec: BenchCommand): string {
  const rows = Object.entries(spec.options).map(([name, option]) => {
    const left =
      option.kind === 'flag' ? `--${name}` : `--${name} ${option.kind === 'number' ? 'N' : option.valueName}`;
    const fallback =
      option.kind === 'number'
        ? ` (default ${option.default})`
        : option.kind === 'string' && option.default !== undefined
          ? ` (default ${option.default})`
          : '';
    return { left, right: `${option.help}${fallback}` };
  });
  rows.push({ left: '--help', right: 'print this and exit' });
  const width = Math.max(...rows.map((row) => row.left.length));
  const lines = rows.map((row) => `  ${row.left.padEnd(width)}  ${row.right}`);
  return `usage: ${spec.command} [options]\n\n${spec.summary}\n\noptions:\n${lines.join('\n')}\n`;
}

/** Throws BenchUsageError; `--help` is the caller's to handle (see benchOptions). */
export function parseBenchOptions<Options extends Record<string, BenchOption>>(
  spec: BenchCommand & { options: Options },
  argv: readonly string[],
): BenchOptionValues<Options> {
  const parserOptions: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    parserOptions[name] = { type: option.kind === 'flag' ? 'boolean' : 'string' };
  }
  let parsed: ReturnType<typeof parseArgs>['values'];
  try {
    parsed = parseArgs({
      args: [...argv],
      options: parserOptions,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new BenchUsageError(error instanceof Error ? error.message : String(error));
  }
  const values: Record<string, number | string | boolean | undefined> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    const given = parsed[name];
    if (option.kind === 'flag') {
      values[name] = given === true;
    } else if (option.kind === 'string') {
      values[name] = typeof given === 'string' ? given : option.default;
    } else if (typeof given !== 'string') {
      values[name] = option.default;
    } else {
      const min = option.min ?? 1;
      const value = given.trim() === '' ? NaN : Number(given);
      if (!Number.isFinite(value) || value < min) {
        throw new BenchUsageError(`--${name} wants a number ≥ ${min}, not '${given}'`);
      }
      values[name] = value;
    }
  }
  return values as BenchOptionValues<Options>;
}

/**
 * The process's options: prints the usage and exits 0 on --help, prints the error and a hint and
 * exits 2 on a bad command line.
 */
export function benchOptions<Options extends Record<string, BenchOption>>(
  spec: BenchCommand & { options: Options },
): BenchOptionValues<Options> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(benchUsage(spec));
    process.exit(0);
  }
  try {
    return parseBenchOptions(spec, argv);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`${spec.command}: ${error.message}\nRun it with --help for its options.\n`);
    process.exit(2);
  }
}
