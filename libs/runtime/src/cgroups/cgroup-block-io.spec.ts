// The block I/O spellings that do not need a cgroup tree: device numbers, line formats, parsers.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  blockDeviceNumbers,
  decodeDeviceNumber,
  ioWeightFromBlkioWeight,
  parseV1ServiceBytes,
  parseV2IoStat,
  v2IoMaxLines,
} from './cgroup-block-io';

describe('block I/O spellings', () => {
  it('splits dev_t as the kernel does, small and large numbers alike', () => {
    expect(decodeDeviceNumber(0x0810n)).toEqual({ major: 8, minor: 16 });
    expect(decodeDeviceNumber(0x0700n)).toEqual({ major: 7, minor: 0 });
    // major 259 (blkext, NVMe partitions), minor 300: bits above the classic 8+8.
    const rdev = (259n << 8n) | (300n & 0xffn) | ((300n & ~0xffn) << 12n);
    expect(decodeDeviceNumber(rdev)).toEqual({ major: 259, minor: 300 });
  });

  it('converts Docker weights to io.weight at both ends and the default', () => {
    expect(ioWeightFromBlkioWeight(10)).toBe(1);
    expect(ioWeightFromBlkioWeight(1000)).toBe(10000);
    expect(ioWeightFromBlkioWeight(500)).toBe(4950);
  });

  it('writes one io.max line per device with "max" for a lifted cap', () => {
    expect(
      v2IoMaxLines({
        readBps: [{ major: 8, minor: 0, rate: 0 }],
        writeIops: [
          { major: 8, minor: 0, rate: 50 },
          { major: 7, minor: 1, rate: 5 },
        ],
      }),
    ).toEqual(['8:0 rbps=max wiops=50', '7:1 wiops=5']);
  });

  it('sums service bytes per direction and ignores Total, Sync and Async lines', () => {
    expect(
      parseV1ServiceBytes('7:0 Read 10\n7:0 Write 20\n7:0 Sync 30\n7:0 Total 30\n7:1 Write 5\nTotal 35\n'),
    ).toEqual({ readBytes: 10, writeBytes: 25 });
    expect(parseV1ServiceBytes('Total 0\n')).toEqual({ readBytes: 0, writeBytes: 0 });
    expect(parseV2IoStat('7:0 rbytes=10 wbytes=20 rios=1 wios=2\n7:1 rbytes=1 wbytes=0\n')).toEqual({
      readBytes: 11,
      writeBytes: 20,
    });
  });

  describe('resolving a device path', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'flotilla-blockdev-'));
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it('refuses a path that does not exist', () => {
      expect(() => blockDeviceNumbers(join(dir, 'sdz'))).toThrow(/no such file or directory/);
    });

    it('refuses a regular file and a character device', async () => {
      await writeFile(join(dir, 'disk.img'), '');
      expect(() => blockDeviceNumbers(join(dir, 'disk.img'))).toThrow(/is not a block device/);
      expect(() => blockDeviceNumbers('/dev/null')).toThrow(/\/dev\/null is not a block device/);
    });
  });
});
