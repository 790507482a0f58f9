// HEALTHCHECK as Docker stores it in an image config: `Test` is ["CMD", ...] (exec form),
// ["CMD-SHELL", "command"] (shell form) or ["NONE"] (disable an inherited check); durations are
// nanoseconds, and only the options given are stored (0 or absent means the default).
import type { HealthConfig } from '../images/oci.types';
import { ContainerfileError } from './containerfile.parser';

const UNIT_NANOS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1_000,
  µs: 1_000,
  ms: 1_000_000,
  s: 1_000_000_000,
  m: 60_000_000_000,
  h: 3_600_000_000_000,
};

/**
 * A Go duration ("30s", "1m30s", "1.5h", "250ms") in nanoseconds, as Docker reads HEALTHCHECK
 * options. Worked example: "1m30.5s" = 1 × 60e9 + 30.5 × 1e9 = 90_500_000_000 ns. Undefined when the
 * text is not a duration (a bare number has no unit and is refused, as Go does except for "0").
 */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    const unit = match?.[2];
    if (match === null || unit === undefined) return undefined;
    total += Number(match[1]) * (UNIT_NANOS[unit] ?? Number.NaN);
    at = part.lastIndex;
  }
  return at === 0 || !Number.isFinite(total) ? undefined : Math.round(total);
}

const DURATION_OPTIONS = {
  interval: 'Interval',
  timeout: 'Timeout',
  'start-period': 'StartPeriod',
  'start-interval': 'StartInterval',
} as const;

/** Docker's lower bound for --interval, --timeout and --start-interval. */
const MINIMUM_NANOS = 1_000_000;

/** `HEALTHCHECK [OPTIONS] CMD command` or `HEALTHCHECK NONE`, after the keyword. */
export function parseHealthcheck(text: string, line: number): HealthConfig {
  let rest = text.trim();
  const options: { -readonly [K in keyof HealthConfig]?: HealthConfig[K] } = {};
  for (;;) {
    const option = /^--([a-z-]+)=(\S*)\s*/.exec(rest);
    if (option === null) break;
    const [whole, name = '', value = ''] = option;
    rest = rest.slice(whole.length);
    if (name === 'retries') {
      if (!/^\d+$/.test(value)) {
        throw new ContainerfileError(
          `HEALTHCHECK --retries=${value}: give a whole number, e.g. --retries=3`,
          line,
        );
      }
      options.Retries = Number(value);
      continue;
    }
    const field = DURATION_OPTIONS[name as keyof typeof DURATION_OPTIONS];
    if (field === undefined) {
      throw new ContainerfileError(
        `HEALTHCHECK --${name} is unknown; use --interval, --timeout, --start-period, --start-interval or --retries`,
        line,
      );
    }
    const nanos = parseGoDuration(value);
    if (nanos === undefined) {
      throw new ContainerfileError(
        `HEALTHCHECK --${name}=${value}: give a duration like 30s, 1m or 500ms`,
        line,
      );
    }
    if (field !== 'StartPeriod' && nanos < MINIMUM_NANOS) {
      throw new ContainerfileError(`HEALTHCHECK --${name}=${value} is shorter than the minimum of 1ms`, line);
    }
    options[field] = nanos;
  }
  const form = /^(\S+)\s*(.*)$/s.exec(rest);
  const kind = (form?.[1] ?? '').toUpperCase();
  const command = (form?.[2] ?? '').trim();
  if (kind === 'NONE') {
    if (command !== '' || Object.keys(options).length > 0) {
      throw new ContainerfileError('HEALTHCHECK NONE takes no options and no command', line);
    }
    return { Test: ['NONE'] };
  }
  if (kind !== 'CMD' || command === '') {
    throw new ContainerfileError(
      'HEALTHCHECK needs CMD and a command (HEALTHCHECK [--interval=30s ...] CMD curl -f http://localhost/), or NONE',
      line,
    );
  }
  const exec = execForm(command);
  if (exec !== undefined && exec.length === 0) {
    throw new ContainerfileError('HEALTHCHECK CMD [] has no command to run', line);
  }
  return { Test: exec === undefined ? ['CMD-SHELL', command] : ['CMD', ...exec], ...options };
}

function execForm(command: string): string[] | undefined {
  if (!command.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(command);
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  } catch {
    // shell form that happens to start with "["
  }
  return undefined;
}
