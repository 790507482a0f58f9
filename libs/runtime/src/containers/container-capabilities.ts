// --cap-add / --cap-drop as Docker resolves them: Docker's default 14 capabilities, minus the drops,
// plus the adds (an add wins over a drop of the same name); ALL in the adds is every capability minus
// the drops, ALL in the drops is only the adds. The shim gets the result as one mask (caps=HEX).
import { readFileSync } from 'node:fs';
import { ContainerError } from './container.error';

/** Linux's capability numbers (linux/capability.h), without the CAP_ prefix. */
const CAPABILITY_NUMBERS: Readonly<Record<string, number>> = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  DAC_READ_SEARCH: 2,
  FOWNER: 3,
  FSETID: 4,
  KILL: 5,
  SETGID: 6,
  SETUID: 7,
  SETPCAP: 8,
  LINUX_IMMUTABLE: 9,
  NET_BIND_SERVICE: 10,
  NET_BROADCAST: 11,
  NET_ADMIN: 12,
  NET_RAW: 13,
  IPC_LOCK: 14,
  IPC_OWNER: 15,
  SYS_MODULE: 16,
  SYS_RAWIO: 17,
  SYS_CHROOT: 18,
  SYS_PTRACE: 19,
  SYS_PACCT: 20,
  SYS_ADMIN: 21,
  SYS_BOOT: 22,
  SYS_NICE: 23,
  SYS_RESOURCE: 24,
  SYS_TIME: 25,
  SYS_TTY_CONFIG: 26,
  MKNOD: 27,
  LEASE: 28,
  AUDIT_WRITE: 29,
  AUDIT_CONTROL: 30,
  SETFCAP: 31,
  MAC_OVERRIDE: 32,
  MAC_ADMIN: 33,
  SYSLOG: 34,
  WAKE_ALARM: 35,
  BLOCK_SUSPEND: 36,
  AUDIT_READ: 37,
  PERFMON: 38,
  BPF: 39,
  CHECKPOINT_RESTORE: 40,
};

/** Docker's default set, the one the shim applies when a config names none (SHIM_DEFAULT_CAPS). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/**
 * The capabilities this runtime may hand out: its own bounding set (a kernel's unknown bits and those
 * withheld from this host, e.g. inside another container, would make the shim's capset fail), so ALL
 * means all of those. Every known one when /proc cannot say.
 */
function boundingSet(): bigint {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    if (hex !== undefined) return BigInt(`0x${hex}`);
  } catch {
    // fall through: no /proc
  }
  return (1n << 64n) - 1n;
}

/** "net_raw", "CAP_NET_RAW" → "CAP_NET_RAW"; "all" → "ALL"; anything else is refused. */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const bare = upper.startsWith('CAP_') ? upper.slice(4) : upper;
  if (CAPABILITY_NUMBERS[bare] === undefined) {
    throw new ContainerError(
      'InvalidSpec',
      `unknown capability "${name}": use names such as NET_ADMIN or CAP_SYS_ADMIN, or ALL`,
    );
  }
  return `CAP_${bare}`;
}

function numberOf(capability: string): number {
  return CAPABILITY_NUMBERS[capability.slice(4)] ?? -1;
}

/** The container's capabilities, CAP_ names in number order. */
export function resolveCapabilities(request: {
  add?: readonly string[];
  drop?: readonly string[];
}): string[] {
  const add = (request.add ?? []).map(normalizeCapability);
  const drop = (request.drop ?? []).map(normalizeCapability);
  const bounding = boundingSet();
  const all = Object.keys(CAPABILITY_NUMBERS)
    .map((bare) => `CAP_${bare}`)
    .filter((capability) => (bounding & (1n << BigInt(numberOf(capability)))) !== 0n);
  let result: string[];
  if (add.includes('ALL')) result = all.filter((capability) => !drop.includes(capability));
  else if (drop.includes('ALL')) result = add;
  else result = [...DEFAULT_CAPABILITIES.filter((capability) => !drop.includes(capability)), ...add];
  return [...new Set(result)].sort((a, b) => numberOf(a) - numberOf(b));
}

/** The shim's caps= line: one bit per capability number, in hexadecimal. */
export function capabilityMask(capabilities: readonly string[]): string {
  let mask = 0n;
  for (const capability of capabilities) {
    const bit = numberOf(capability);
    if (bit < 0) throw new ContainerError('InvalidSpec', `unknown capability "${capability}"`);
    mask |= 1n << BigInt(bit);
  }
  return mask.toString(16);
}
