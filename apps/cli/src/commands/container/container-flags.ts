// Docker's spellings for sizes, CPUs, ports, volumes and environment, parsed up front so a typo is a
// usage error (exit 2) that says what the flag expects, before anything is created.
import { isAbsolute } from 'node:path';
import {
  ContainerError,
  parseIdMapping,
  parsePortMapping,
  type UserNamespaceRequest,
  type BlockDeviceThrottle,
  type PublishedPort,
  type RestartPolicy,
  type VolumeMount,
} from '@flotilla/runtime';
import { CliError, EXIT_USAGE } from '../../cli-context';

/**
 * Docker's exit code when `docker run` itself refuses (a bad --device-read-bps, a device that is not
 * a block device): 125, so scripts tell it from the container's own exit codes.
 */
export const EXIT_RUN_REFUSED = 125;

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

/** Docker's rate units (go-units RAMInBytes): b, k, m, g, t, p, optionally followed by "b" or "ib", powers of 1024. */
const RATE_UNITS: Record<string, number> = {
  '': 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

function splitDeviceRate(text: string, flag: string, format: string): { path: string; rate: string } {
  const colon = text.lastIndexOf(':');
  const path = colon > 0 ? text.slice(0, colon) : '';
  if (!path.startsWith('/dev/') || path.length === '/dev/'.length) {
    throw new CliError(
      `${flag} "${text}" is not DEVICE:RATE with a device under /dev/, e.g. ${format}`,
      EXIT_RUN_REFUSED,
    );
  }
  return { path, rate: text.slice(colon + 1) };
}

/** `--device-read-bps /dev/sda:1mb` (also 512k, 10MB, 1.5mib, 4096): bytes per second on one device. */
export function parseDeviceBps(text: string, flag: string): BlockDeviceThrottle {
  const { path, rate } = splitDeviceRate(text, flag, '/dev/sda:1mb');
  const match = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(rate);
  const unit = RATE_UNITS[(match?.[2] ?? '').toLowerCase()];
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new CliError(
      `${flag} "${text}" has an invalid rate: use DEVICE:NUMBER[UNIT] with a number of at least 0 and a unit of kb, mb or gb, e.g. /dev/sda:1mb`,
      EXIT_RUN_REFUSED,
    );
  }
  return { path, rate: bytes };
}

/** `--device-write-iops /dev/sda:100`: whole operations per second on one device. */
export function parseDeviceIops(text: string, flag: string): BlockDeviceThrottle {
  const { path, rate } = splitDeviceRate(text, flag, '/dev/sda:100');
  const operations = Number(rate);
  if (!/^\d+$/.test(rate) || !Number.isSafeInteger(operations)) {
    throw new CliError(
      `${flag} "${text}" has an invalid rate: use DEVICE:NUMBER with a whole number of operations per second, e.g. /dev/sda:100`,
      EXIT_RUN_REFUSED,
    );
  }
  return { path, rate: operations };
}

/** `--blkio-weight 500`: 10..1000, or 0 for none (Docker's "unset"). */
export function parseBlkioWeight(text: string): number | undefined {
  const weight = Number(text);
  if (!/^\d+$/.test(text.trim()) || (weight !== 0 && (weight < 10 || weight > 1000))) {
    throw new CliError(
      `--blkio-weight "${text}" is out of range: the block I/O weight is from 10 to 1000 (0 for none)`,
      EXIT_RUN_REFUSED,
    );
  }
  return weight === 0 ? undefined : weight;
}

/**
 * `--userns=auto|host` and podman's `--uidmap`/`--gidmap CONTAINER_ID:HOST_ID:SIZE` (repeatable; one
 * of the two alone applies to both, as podman does). Undefined: the host's ids. `nodeDefault` is
 * FLOTILLA_USERNS, the node-wide default as Docker's daemon-wide userns-remap: with it set to auto,
 * every container gets a namespace unless it says --userns=host.
 */
export function parseUserNamespace(
  flags: { userns?: string; uidmap?: readonly string[]; gidmap?: readonly string[] },
  nodeDefault?: string,
): UserNamespaceRequest | undefined {
  const explicit = (flags.uidmap?.length ?? 0) > 0 || (flags.gidmap?.length ?? 0) > 0;
  if (nodeDefault !== undefined && nodeDefault !== '' && !['auto', 'host'].includes(nodeDefault)) {
    throw new CliError(`FLOTILLA_USERNS "${nodeDefault}" must be auto or host`, EXIT_RUN_REFUSED);
  }
  if (flags.userns !== undefined && !['auto', 'host'].includes(flags.userns)) {
    throw new CliError(`--userns "${flags.userns}" must be auto or host`, EXIT_RUN_REFUSED);
  }
  if (flags.userns !== undefined && explicit) {
    throw new CliError(
      `--userns=${flags.userns} and --uidmap/--gidmap cannot be combined: the maps choose the namespace`,
      EXIT_RUN_REFUSED,
    );
  }
  const mode = flags.userns ?? (explicit ? undefined : nodeDefault);
  if (mode === 'auto') return { mode: 'auto' };
  if (!explicit) return undefined;
  try {
    const uidMappings = (flags.uidmap ?? flags.gidmap ?? []).map((text) =>
      parseIdMapping(text, flags.uidmap ? '--uidmap' : '--gidmap'),
    );
    const gidMappings = (flags.gidmap ?? flags.uidmap ?? []).map((text) =>
      parseIdMapping(text, flags.gidmap ? '--gidmap' : '--uidmap'),
    );
    return { mode: 'map', uidMappings, gidMappings };
  } catch (error: unknown) {
    if (error instanceof ContainerError) throw new CliError(error.message, EXIT_RUN_REFUSED);
    throw error;
  }
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

/** `--restart no|on-failure[:N]|always|unless-stopped`, refused with 125 as docker run does. */
export function parseRestartPolicy(text: string): RestartPolicy {
  const match = /^(no|on-failure|always|unless-stopped)(?::(\d+))?$/.exec(text.trim());
  const name = match?.[1] as RestartPolicy['name'] | undefined;
  if (name === undefined || (match?.[2] !== undefined && name !== 'on-failure')) {
    throw new CliError(
      `--restart "${text}" must be no, on-failure[:MAX_RETRIES], always or unless-stopped`,
      EXIT_RUN_REFUSED,
    );
  }
  return match?.[2] === undefined ? { name } : { name, maximumRetryCount: Number(match[2]) };
}
