// The tar header format (POSIX ustar with PAX extensions, plus the GNU long-name records that Docker and
// GNU tar write): decoding one 512-byte block, parsing PAX records, and encoding headers for the layers
// and archives we write ourselves.
import { LayerError } from './layer.error';

export const BLOCK_SIZE = 512;

export type TarEntryType =
  'file' | 'hardlink' | 'symlink' | 'char-device' | 'block-device' | 'directory' | 'fifo';

/** One archive member after PAX and GNU records have been folded in. */
export interface TarEntry {
  readonly name: string;
  readonly type: TarEntryType;
  /** Permission bits including setuid/setgid/sticky (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Seconds since the epoch; PAX allows fractions. */
  readonly mtime: number;
  readonly linkName: string;
  readonly uname: string;
  readonly gname: string;
  readonly devMajor: number;
  readonly devMinor: number;
  /** Extended attributes by name (from PAX SCHILY.xattr.* records), values as raw bytes. */
  readonly xattrs: ReadonlyMap<string, Buffer>;
}

/** What a raw header block says before PAX/GNU records are applied. */
export interface RawHeader {
  readonly name: string;
  readonly typeFlag: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly linkName: string;
  readonly uname: string;
  readonly gname: string;
  readonly devMajor: number;
  readonly devMinor: number;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

export function decodeHeader(block: Buffer): RawHeader {
  if (block.length !== BLOCK_SIZE) {
    throw new LayerError('malformed-tar', `tar header is ${block.length} bytes, expected ${BLOCK_SIZE}`);
  }
  verifyChecksum(block);
  const magic = block.toString('latin1', 257, 263);
  // Only POSIX ustar splits long names into prefix + name; old GNU headers keep atime/ctime there.
  const prefix = magic === 'ustar\0' ? cString(block, 345, 155) : '';
  const name = cString(block, 0, 100);
  return {
    name: prefix === '' ? name : `${prefix}/${name}`,
    typeFlag: String.fromCharCode(block[156] ?? 0),
    mode: readNumber(block, 100, 8, 'mode'),
    uid: readNumber(block, 108, 8, 'uid'),
    gid: readNumber(block, 116, 8, 'gid'),
    size: readNumber(block, 124, 12, 'size'),
    mtime: readNumber(block, 136, 12, 'mtime'),
    linkName: cString(block, 157, 100),
    uname: cString(block, 265, 32),
    gname: cString(block, 297, 32),
    devMajor: readNumber(block, 329, 8, 'devmajor'),
    devMinor: readNumber(block, 337, 8, 'devminor'),
  };
}

function verifyChecksum(block: Buffer): void {
  const stored = readNumber(block, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // Some historic writers summed signed chars; both are accepted as GNU tar does.
  if (stored !== unsigned && stored !== signed) {
    throw new LayerError(
      'malformed-tar',
      `tar header checksum mismatch (stored ${stored}, computed ${unsigned}): the archive is corrupt or not a tar file`,
    );
  }
}

function cString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.toString('utf8', 0, end === -1 ? length : end);
}

function readNumber(block: Buffer, offset: number, length: number, field: string): number {
  const first = block[offset] ?? 0;
  if (first & 0x80) {
    // GNU base-256: big-endian two's complement with the top bit as the marker. Negative values
    // (first byte 0xff) never make sense for sizes, ids or times in a layer.
    if (first === 0xff) throw new LayerError('malformed-tar', `tar header ${field} is negative`);
    let value = first & 0x7f;
    for (let i = 1; i < length; i++) {
      value = value * 256 + (block[offset + i] ?? 0);
      if (value > Number.MAX_SAFE_INTEGER)
        throw new LayerError('malformed-tar', `tar header ${field} is too large`);
    }
    return value;
  }
  const text = block
    .toString('latin1', offset, offset + length)
    .replace(/\0.*$/s, '')
    .trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw new LayerError(
      'malformed-tar',
      `tar header ${field} is not an octal number: ${JSON.stringify(text)}`,
    );
  }
  return parseInt(text, 8);
}

/** Parses PAX extended header records ("<len> <key>=<value>\n"), keeping values as bytes. */
export function parsePaxRecords(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let position = 0;
  while (position < data.length) {
    if (data[position] === 0) break; // padding some writers leave after the last record
    const space = data.indexOf(0x20, position);
    if (space === -1) throw new LayerError('malformed-tar', 'PAX header record has no length field');
    const lengthText = data.toString('latin1', position, space);
    if (!/^[0-9]+$/.test(lengthText)) {
      throw new LayerError(
        'malformed-tar',
        `PAX header record length is not a number: ${JSON.stringify(lengthText)}`,
      );
    }
    const recordLength = parseInt(lengthText, 10);
    const end = position + recordLength;
    if (recordLength <= space - position + 1 || end > data.length || data[end - 1] !== 0x0a) {
      throw new LayerError('malformed-tar', 'PAX header record length does not match its content');
    }
    const equals = data.indexOf(0x3d, space + 1);
    if (equals === -1 || equals >= end) throw new LayerError('malformed-tar', 'PAX header record has no "="');
    records.set(data.toString('utf8', space + 1, equals), data.subarray(equals + 1, end - 1));
    position = end;
  }
  return records;
}

const TYPE_FLAGS: Readonly<Record<TarEntryType, string>> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  'char-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};

export function entryTypeOf(typeFlag: string): TarEntryType | undefined {
  switch (typeFlag) {
    case '0':
    case '\0':
    case '7': // contiguous file: a regular file everywhere that matters
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char-device';
    case '4':
      return 'block-device';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return undefined;
  }
}

/** The fields a writer supplies; everything else gets a sensible default. */
export interface EntryToWrite {
  readonly name: string;
  readonly type: TarEntryType;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: number;
  readonly mtime?: number;
  readonly linkName?: string;
  readonly uname?: string;
  readonly gname?: string;
  readonly devMajor?: number;
  readonly devMinor?: number;
  readonly xattrs?: ReadonlyMap<string, Buffer>;
}

const OCTAL_LIMIT_8 = 0o7777777;
const OCTAL_LIMIT_12 = 0o77777777777;

/**
 * Encodes one entry as header blocks: a PAX header first when a field does not fit ustar (long names,
 * large ids or sizes, xattrs, non-ASCII names), then the ustar header.
 */
export function encodeHeader(entry: EntryToWrite): Buffer {
  const size = entry.type === 'file' ? (entry.size ?? 0) : 0;
  const mtime = Math.floor(entry.mtime ?? 0);
  const uid = entry.uid ?? 0;
  const gid = entry.gid ?? 0;
  const linkName = entry.linkName ?? '';
  const pax: Array<[string, Buffer]> = [];
  const split = splitUstarName(entry.name);
  if (split === undefined) pax.push(['path', Buffer.from(entry.name, 'utf8')]);
  if (Buffer.byteLength(linkName) > 100 || !isAscii(linkName))
    pax.push(['linkpath', Buffer.from(linkName, 'utf8')]);
  if (size > OCTAL_LIMIT_12) pax.push(['size', Buffer.from(String(size))]);
  if (uid > OCTAL_LIMIT_8) pax.push(['uid', Buffer.from(String(uid))]);
  if (gid > OCTAL_LIMIT_8) pax.push(['gid', Buffer.from(String(gid))]);
  for (const [name, value] of entry.xattrs ?? []) pax.push([`SCHILY.xattr.${name}`, value]);

  const main = ustarBlock({
    name: split?.name ?? truncateUtf8(entry.name, 100),
    prefix: split?.prefix ?? '',
    mode: entry.mode ?? (entry.type === 'directory' ? 0o755 : 0o644),
    uid: Math.min(uid, OCTAL_LIMIT_8),
    gid: Math.min(gid, OCTAL_LIMIT_8),
    size: Math.min(size, OCTAL_LIMIT_12),
    mtime: Math.min(mtime, OCTAL_LIMIT_12),
    typeFlag: TYPE_FLAGS[entry.type],
    linkName: truncateUtf8(linkName, 100),
    uname: entry.uname ?? '',
    gname: entry.gname ?? '',
    devMajor: entry.devMajor ?? 0,
    devMinor: entry.devMinor ?? 0,
  });
  if (pax.length === 0) return main;
  const body = Buffer.concat(pax.map(([key, value]) => paxRecord(key, value)));
  const paxHeader = ustarBlock({
    name: truncateUtf8(`PaxHeaders/${entry.name.replace(/^.*\//, '')}`, 100),
    prefix: '',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: Math.min(mtime, OCTAL_LIMIT_12),
    typeFlag: 'x',
    linkName: '',
    uname: '',
    gname: '',
    devMajor: 0,
    devMinor: 0,
  });
  return Buffer.concat([paxHeader, body, Buffer.alloc(paddingFor(body.length)), main]);
}

export function paddingFor(size: number): number {
  const rest = size % BLOCK_SIZE;
  return rest === 0 ? 0 : BLOCK_SIZE - rest;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  // The length prefix counts its own digits, so grow it until it is self-consistent.
  let length = payload.length + 1;
  while (String(length).length + payload.length !== length) length = String(length).length + payload.length;
  return Buffer.concat([Buffer.from(String(length)), payload]);
}

interface UstarFields {
  readonly name: string;
  readonly prefix: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeFlag: string;
  readonly linkName: string;
  readonly uname: string;
  readonly gname: string;
  readonly devMajor: number;
  readonly devMinor: number;
}

function ustarBlock(fields: UstarFields): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  block.write(fields.name, 0, 100, 'utf8');
  writeOctal(block, 100, 8, fields.mode & 0o7777);
  writeOctal(block, 108, 8, fields.uid);
  writeOctal(block, 116, 8, fields.gid);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, fields.mtime);
  block.write('        ', 148, 8, 'latin1');
  block.write(fields.typeFlag, 156, 1, 'latin1');
  block.write(fields.linkName, 157, 100, 'utf8');
  block.write('ustar\0' + '00', 257, 8, 'latin1');
  block.write(fields.uname.slice(0, 31), 265, 32, 'utf8');
  block.write(fields.gname.slice(0, 31), 297, 32, 'utf8');
  writeOctal(block, 329, 8, fields.devMajor);
  writeOctal(block, 337, 8, fields.devMinor);
  block.write(fields.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return block;
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'latin1');
}

/** Splits a name into ustar prefix/name, or answers undefined when only PAX can hold it. */
function splitUstarName(name: string): { name: string; prefix: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { name, prefix: '' };
  for (let slash = name.indexOf('/'); slash !== -1; slash = name.indexOf('/', slash + 1)) {
    if (slash <= 155 && name.length - slash - 1 <= 100 && slash + 1 < name.length) {
      return { prefix: name.slice(0, slash), name: name.slice(slash + 1) };
    }
  }
  return undefined;
}

function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

function truncateUtf8(text: string, bytes: number): string {
  const buffer = Buffer.from(text, 'utf8');
  return buffer.length <= bytes ? text : buffer.subarray(0, bytes).toString('utf8');
}
