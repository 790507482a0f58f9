import { BLOCK_SIZE, decodeHeader, encodeHeader, parsePaxRecords } from './tar-header';
import { readTar } from './tar-reader';
import { tarToBuffer } from './tar-writer';

async function roundTrip(entry: Parameters<typeof encodeHeader>[0], body?: Buffer) {
  const tar = await tarToBuffer([{ entry, ...(body === undefined ? {} : { body }) }]);
  const members = [];
  for await (const member of readTar(
    (async function* () {
      yield tar;
    })(),
  )) {
    const chunks: Buffer[] = [];
    for await (const chunk of member.body) chunks.push(chunk);
    members.push({ ...member.entry, content: Buffer.concat(chunks).toString() });
  }
  return members;
}

describe('tar headers', () => {
  it('round-trips the fields ustar holds', async () => {
    const [entry] = await roundTrip(
      {
        name: 'etc/passwd',
        type: 'file',
        mode: 0o4755,
        uid: 1000,
        gid: 100,
        mtime: 1_700_000_000,
        uname: 'app',
        gname: 'users',
      },
      Buffer.from('root:x:0:0'),
    );
    expect(entry).toMatchObject({
      name: 'etc/passwd',
      type: 'file',
      mode: 0o4755,
      uid: 1000,
      gid: 100,
      mtime: 1_700_000_000,
      uname: 'app',
      gname: 'users',
      size: 10,
      content: 'root:x:0:0',
    });
  });

  it('splits long names into prefix and name, and uses PAX beyond that', async () => {
    const splittable = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
    const header = encodeHeader({ name: splittable, type: 'file', size: 0 });
    expect(header.length).toBe(BLOCK_SIZE);
    expect(decodeHeader(header).name).toBe(splittable);

    const unsplittable = `${'x'.repeat(150)}/é/${'y'.repeat(150)}`;
    const [entry] = await roundTrip({ name: unsplittable, type: 'symlink', linkName: `/${'t'.repeat(200)}` });
    expect(entry).toMatchObject({ name: unsplittable, type: 'symlink', linkName: `/${'t'.repeat(200)}` });
  });

  it('carries ids beyond octal range and extended attributes through PAX', async () => {
    const [entry] = await roundTrip(
      {
        name: 'big-ids',
        type: 'file',
        uid: 100_000_000,
        gid: 200_000_000,
        xattrs: new Map([['security.capability', Buffer.from([1, 0, 0, 2, 0, 4, 0, 0])]]),
      },
      Buffer.alloc(0),
    );
    expect(entry?.uid).toBe(100_000_000);
    expect(entry?.gid).toBe(200_000_000);
    expect([...(entry?.xattrs.get('security.capability') ?? [])]).toEqual([1, 0, 0, 2, 0, 4, 0, 0]);
  });

  it('reads GNU base-256 numbers and refuses negative ones', () => {
    const header = encodeHeader({ name: 'huge', type: 'file', size: 0 });
    // 2^33 bytes in base-256: the size field's first byte carries the marker bit.
    header.fill(0, 124, 136);
    header[124] = 0x80;
    header.writeUIntBE(2 ** 33, 130, 6);
    rechecksum(header);
    expect(decodeHeader(header).size).toBe(2 ** 33);
    header.fill(0xff, 124, 136);
    rechecksum(header);
    expect(() => decodeHeader(header)).toThrow('tar header size is negative');
  });

  it('parses PAX records with binary values and rejects inconsistent lengths', () => {
    const records = parsePaxRecords(
      Buffer.concat([Buffer.from('16 path=a/b/c.d\n'), Buffer.from('21 SCHILY.xattr.x=\u0000\u0001\n')]),
    );
    expect(records.get('path')?.toString()).toBe('a/b/c.d');
    expect([...(records.get('SCHILY.xattr.x') ?? [])]).toEqual([0, 1]);
    expect(() => parsePaxRecords(Buffer.from('99 path=short\n'))).toThrow(
      'PAX header record length does not match its content',
    );
    expect(() => parsePaxRecords(Buffer.from('x path=a\n'))).toThrow(
      'PAX header record length is not a number',
    );
  });
});

function rechecksum(header: Buffer): void {
  header.write('        ', 148, 'latin1');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
}
