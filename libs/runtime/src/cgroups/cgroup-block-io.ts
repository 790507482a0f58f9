// Block I/O in both kernels' spellings: validation, the v1 throttle lines and v2 io.max lines, the
// weight conversion, and the byte counters read back (v1 blkio.throttle.io_service_bytes, v2 io.stat).
import { statSync } from 'node:fs';
import { CgroupError, type BlockDeviceRate, type BlockIoLimits, type BlockIoUsage } from './cgroup.types';
import { toSafeNumber } from './cgroup-limits';

/** Docker's --blkio-weight range; 0 there means "not set", which is an absent weight here. */
export const MIN_BLKIO_WEIGHT = 10;
export const MAX_BLKIO_WEIGHT = 1000;

export type BlockIoThrottle = 'readBps' | 'writeBps' | 'readIops' | 'writeIops';
export const BLOCK_IO_THROTTLES: readonly BlockIoThrottle[] = [
  'readBps',
  'writeBps',
  'readIops',
  'writeIops',
];

/** v1 file per throttle. */
export const V1_THROTTLE_FILES: Readonly<Record<BlockIoThrottle, string>> = {
  readBps: 'blkio.throttle.read_bps_device',
  writeBps: 'blkio.throttle.write_bps_device',
  readIops: 'blkio.throttle.read_iops_device',
  writeIops: 'blkio.throttle.write_iops_device',
};

/** v2 io.max key per throttle. */
const V2_THROTTLE_KEYS: Readonly<Record<BlockIoThrottle, string>> = {
  readBps: 'rbps',
  writeBps: 'wbps',
  readIops: 'riops',
  writeIops: 'wiops',
};

export function hasBlockIoLimits(limits: BlockIoLimits | undefined): boolean {
  if (limits === undefined) return false;
  return limits.weight !== undefined || BLOCK_IO_THROTTLES.some((key) => (limits[key]?.length ?? 0) > 0);
}

export function validateBlockIoLimits(limits: BlockIoLimits | undefined): void {
  if (limits === undefined) return;
  const { weight } = limits;
  if (
    weight !== undefined &&
    (!Number.isSafeInteger(weight) || weight < MIN_BLKIO_WEIGHT || weight > MAX_BLKIO_WEIGHT)
  ) {
    throw new CgroupError(
      `cgroup limit blockIo.weight must be an integer from ${MIN_BLKIO_WEIGHT} to ${MAX_BLKIO_WEIGHT}; got ${String(weight)}`,
    );
  }
  for (const key of BLOCK_IO_THROTTLES) {
    for (const device of limits[key] ?? []) {
      const numbersOk = [device.major, device.minor].every((n) => Number.isSafeInteger(n) && n >= 0);
      if (!numbersOk || !Number.isSafeInteger(device.rate) || device.rate < 0) {
        throw new CgroupError(
          `cgroup limit blockIo.${key} needs a device major:minor and a rate that are whole numbers of at least 0; got ${device.major}:${device.minor} ${String(device.rate)}`,
        );
      }
    }
  }
}

/** "MAJ:MIN RATE" for a v1 throttle file; the kernel takes one device per write. */
export function v1ThrottleLine(device: BlockDeviceRate): string {
  return `${device.major}:${device.minor} ${device.rate}`;
}

/**
 * One io.max line per device, every throttle of that device on it ("8:0 rbps=1048576 wiops=100");
 * a rate of 0 becomes "max", v2's spelling of no limit.
 */
export function v2IoMaxLines(limits: BlockIoLimits): string[] {
  const byDevice = new Map<string, string[]>();
  for (const key of BLOCK_IO_THROTTLES) {
    for (const device of limits[key] ?? []) {
      const id = `${device.major}:${device.minor}`;
      const settings = byDevice.get(id) ?? [];
      settings.push(`${V2_THROTTLE_KEYS[key]}=${device.rate === 0 ? 'max' : device.rate}`);
      byDevice.set(id, settings);
    }
  }
  return [...byDevice].map(([id, settings]) => `${id} ${settings.join(' ')}`);
}

/** io.weight (1..10000) from a blkio weight (10..1000), the conversion runc and crun use. */
export function ioWeightFromBlkioWeight(weight: number): number {
  return 1 + Math.floor(((weight - MIN_BLKIO_WEIGHT) * 9999) / (MAX_BLKIO_WEIGHT - MIN_BLKIO_WEIGHT));
}

/** Sums v1 "MAJ:MIN Read N" / "MAJ:MIN Write N" lines over every device (the "Total" line is skipped). */
export function parseV1ServiceBytes(text: string): BlockIoUsage {
  let read = 0n;
  let write = 0n;
  for (const line of text.split('\n')) {
    const [device, operation, value] = line.trim().split(/\s+/);
    if (!device?.includes(':') || value === undefined || !/^\d+$/.test(value)) continue;
    if (operation === 'Read') read += BigInt(value);
    if (operation === 'Write') write += BigInt(value);
  }
  return {
    readBytes: toSafeNumber(read, 'block I/O read bytes'),
    writeBytes: toSafeNumber(write, 'block I/O write bytes'),
  };
}

/** Sums v2 io.stat's "MAJ:MIN rbytes=N wbytes=N rios=N ..." lines over every device. */
export function parseV2IoStat(text: string): BlockIoUsage {
  let read = 0n;
  let write = 0n;
  for (const line of text.split('\n')) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [key, value] = field.split('=');
      if (value === undefined || !/^\d+$/.test(value)) continue;
      if (key === 'rbytes') read += BigInt(value);
      if (key === 'wbytes') write += BigInt(value);
    }
  }
  return {
    readBytes: toSafeNumber(read, 'block I/O read bytes'),
    writeBytes: toSafeNumber(write, 'block I/O write bytes'),
  };
}

/** Linux's dev_t split (the kernel's new_decode_dev): 12 bits of major, 20 of minor, interleaved. */
export function decodeDeviceNumber(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/**
 * The major:minor of a block device path, as Docker resolves --device-read-bps /dev/sda: a path that
 * is missing or is not a block device (a partition is fine, a character device is not) is refused.
 */
export function blockDeviceNumbers(path: string): { major: number; minor: number } {
  let stats;
  try {
    stats = statSync(path, { bigint: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CgroupError(
      `block device ${path} cannot be used for an I/O limit: ${code === 'ENOENT' ? 'no such file or directory' : String(error)}`,
      code,
    );
  }
  if (!stats.isBlockDevice()) {
    throw new CgroupError(
      `${path} is not a block device: I/O limits name a disk or partition such as /dev/sda (see lsblk)`,
      'EINVAL',
    );
  }
  return decodeDeviceNumber(stats.rdev);
}
