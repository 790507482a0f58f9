// Docker's spellings for sizes, CPUs, ports, volumes and environment, parsed up front so a typo is a
// usage error (exit 2) that says what the flag expects, before anything is created.
import { isAbsolute } from 'node:path';
import { parsePortMapping, type PublishedPort, type VolumeMount } from '@flotilla/runtime';
import { CliError, EXIT_USAGE } from '../../cli-context';

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `--memory 64m`: bytes, k, m, g, t (powers of 1024, as Docker). */
export function parseMemory(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([bkmgt]?)b?$/i.exec(text.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 6 * 1024 * 1024) {
    throw new CliError(
      `--memory "${text}" is not a size of at least 6m: use forms like 64m, 512m or 1g`,
      EXIT_USAGE,
    );
  }
  return bytes;
}

/** `--cpus 1.5` as millicores. */
export function parseCpus(text: string): number {
  const cpus = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(cpus >= 0.01)) {
    throw new CliError(
      `--cpus "${text}" must be a number of CPUs of at least 0.01, like 0.5 or 2`,
      EXIT_USAGE,
    );
  }
  return Math.round(cpus * 1000);
}

export function parsePositiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0) {
    throw new CliError(`${flag} "${text}" must be a positive whole number`, EXIT_USAGE);
  }
  return value;
}

/** `-p 8080:80`, `-p 8080:80/udp`, `-p 127.0.0.1:8080:80` (the runtime's own parser, as a usage error). */
export function parsePublish(text: string): PublishedPort {
  try {
    return parsePortMapping(text);
  } catch (error: unknown) {
    throw new CliError(error instanceof Error ? error.message : String(error), EXIT_USAGE);
  }
}

/** `-v /host/dir:/container/dir[:ro|rw]`. */
export function parseVolume(text: string): VolumeMount {
  const parts = text.split(':');
  const [source = '', target = '', mode = 'rw'] = parts;
  if (
    parts.length < 2 ||
    parts.length > 3 ||
    !isAbsolute(source) ||
    !isAbsolute(target) ||
    !['ro', 'rw'].includes(mode)
  ) {
    throw new CliError(
      `-v "${text}" must be /host/path:/container/path[:ro]: both paths absolute (named volumes are not supported)`,
      EXIT_USAGE,
    );
  }
  return { source, target, readOnly: mode === 'ro' };
}

/** `-e NAME=value`, or `-e NAME` to pass this shell's value (dropped when unset, as Docker). */
export function parseEnv(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const equals = text.indexOf('=');
  if (equals === 0) throw new CliError(`-e "${text}" needs a variable name before "="`, EXIT_USAGE);
  if (equals > 0) return text;
  const value = env[text];
  return value === undefined ? undefined : `${text}=${value}`;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
