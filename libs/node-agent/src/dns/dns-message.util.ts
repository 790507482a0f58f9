// The DNS wire format (RFC 1035 §4) for the cluster DNS: queries are parsed, answers encoded. Every
// packet that arrives is hostile input: parsing never throws, it says which response code the sender
// gets (FORMERR, NOTIMP) or that nothing should be sent at all (a packet too short to carry an id,
// or a response, which answered would let two servers bounce packets at each other forever).
//
// Worked example: the 31-byte query for "web.shop" type A with id 0x1234 and RD set is
//   12 34 | 01 00 | 00 01 | 00 00 | 00 00 | 00 00     header: id, flags (RD), QDCOUNT 1
//   03 'w' 'e' 'b' 04 's' 'h' 'o' 'p' 00             name as length-prefixed labels
//   00 01 | 00 01                                    QTYPE A, QCLASS IN
// and parses to { id: 0x1234, recursionDesired: true, question: { labels: ['web', 'shop'], type: 1,
// class: 1 } }. A name may instead end in a pointer (two bytes 0b11xxxxxx xxxxxxxx) to an earlier
// offset; a pointer must point strictly backwards from where it was read, so no chain can loop.

export const DnsRcode = {
  NoError: 0,
  FormErr: 1,
  ServFail: 2,
  NxDomain: 3,
  NotImp: 4,
  Refused: 5,
} as const;
export type DnsRcode = (typeof DnsRcode)[keyof typeof DnsRcode];

export const DnsType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
} as const;

export const DNS_CLASS_IN = 1;
/** Without EDNS a UDP answer may not exceed 512 bytes (RFC 1035 §4.2.1); longer ones are truncated. */
export const UDP_PAYLOAD_LIMIT = 512;
/** A name's wire form, length octets and the root included, is at most 255 bytes (RFC 1035 §2.3.4). */
export const MAX_NAME_WIRE_LENGTH = 255;
export const MAX_LABEL_LENGTH = 63;
const HEADER_LENGTH = 12;

export interface DnsQuestion {
  /** As sent: the answer echoes the question byte for byte (resolvers randomise the case, 0x20). */
  labels: string[];
  type: number;
  class: number;
}

export interface DnsQuery {
  id: number;
  opcode: number;
  recursionDesired: boolean;
  /** The checking-disabled bit, echoed as RFC 6840 asks. */
  checkingDisabled: boolean;
  question: DnsQuestion;
}

export type ParsedQuery =
  | { kind: 'query'; query: DnsQuery }
  /** Answer with this code; the question is echoed when it could be read. */
  | {
      kind: 'error';
      id: number;
      opcode: number;
      recursionDesired: boolean;
      rcode: DnsRcode;
      reason: string;
      question?: DnsQuestion;
    }
  /** Send nothing back. */
  | { kind: 'drop'; reason: string };

class MalformedName extends Error {}

/** Reads a possibly compressed name at `offset`; `end` is where the name's own bytes stop. */
function readName(packet: Uint8Array, offset: number): { labels: string[]; end: number } {
  const labels: string[] = [];
  let position = offset;
  let end: number | undefined;
  let wireLength = 0;
  // Each pointer must go strictly backwards, so the chain cannot loop; `lowest` is the bound.
  let lowest = offset;
  for (;;) {
    if (position >= packet.length) throw new MalformedName('the name runs past the end of the packet');
    const length = packet[position] ?? 0;
    const top = length & 0xc0;
    if (top === 0xc0) {
      const low = packet[position + 1];
      if (low === undefined) throw new MalformedName('a compression pointer is cut off');
      const target = ((length & 0x3f) << 8) | low;
      if (target >= lowest) {
        throw new MalformedName(`a compression pointer to ${target} does not point backwards (a loop)`);
      }
      if (target < HEADER_LENGTH)
        throw new MalformedName(`a compression pointer to ${target} is inside the header`);
      end ??= position + 2;
      lowest = target;
      position = target;
      continue;
    }
    if (top !== 0) {
      // 0b01 and 0b10 are the extended label types of RFC 2671/6891, long obsolete; a plain label
      // cannot be longer than 63 because its length has only six bits.
      throw new MalformedName(
        `label type 0x${top.toString(16)} is not a plain label (a label is at most 63 bytes)`,
      );
    }
    wireLength += length + 1;
    if (wireLength > MAX_NAME_WIRE_LENGTH) throw new MalformedName('the name is longer than 255 bytes');
    if (length === 0) {
      end ??= position + 1;
      return { labels, end };
    }
    if (position + 1 + length > packet.length)
      throw new MalformedName('a label runs past the end of the packet');
    labels.push(Buffer.from(packet.subarray(position + 1, position + 1 + length)).toString('latin1'));
    position += 1 + length;
  }
}

function uint16(packet: Uint8Array, offset: number): number {
  return ((packet[offset] ?? 0) << 8) | (packet[offset + 1] ?? 0);
}

/** Parses one query; never throws, whatever the bytes. */
export function parseQuery(packet: Uint8Array): ParsedQuery {
  if (packet.length < HEADER_LENGTH) {
    return { kind: 'drop', reason: `${packet.length} bytes is shorter than a DNS header (12)` };
  }
  const id = uint16(packet, 0);
  const flags = uint16(packet, 2);
  if ((flags & 0x8000) !== 0) return { kind: 'drop', reason: 'the packet is a response, not a query' };
  const opcode = (flags >> 11) & 0x0f;
  const recursionDesired = (flags & 0x0100) !== 0;
  const fail = (rcode: DnsRcode, reason: string, question?: DnsQuestion): ParsedQuery => ({
    kind: 'error',
    id,
    opcode,
    recursionDesired,
    rcode,
    reason,
    ...(question ? { question } : {}),
  });
  if (opcode !== 0) return fail(DnsRcode.NotImp, `opcode ${opcode} is not supported (only standard queries)`);
  const questionCount = uint16(packet, 4);
  if (questionCount !== 1)
    return fail(DnsRcode.FormErr, `QDCOUNT is ${questionCount}; a query asks exactly one question`);
  let name: { labels: string[]; end: number };
  try {
    name = readName(packet, HEADER_LENGTH);
  } catch (error) {
    if (error instanceof MalformedName)
      return fail(DnsRcode.FormErr, `malformed question name: ${error.message}`);
    throw error;
  }
  if (name.end + 4 > packet.length)
    return fail(DnsRcode.FormErr, 'the question is cut off before its type and class');
  const question: DnsQuestion = {
    labels: name.labels,
    type: uint16(packet, name.end),
    class: uint16(packet, name.end + 2),
  };
  // Answer, authority and additional records of a query (an EDNS OPT, say) are ignored: without an
  // OPT in the response the client knows we speak plain DNS and keeps to 512-byte UDP answers.
  return {
    kind: 'query',
    query: { id, opcode, recursionDesired, checkingDisabled: (flags & 0x0010) !== 0, question },
  };
}

export type DnsRecordData =
  | { type: 'A'; address: string }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | {
      type: 'SOA';
      primary: string;
      mailbox: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    };

export interface DnsRecord {
  /** Dotted, without the trailing dot; "" is the root. */
  name: string;
  ttl: number;
  data: DnsRecordData;
}

export interface DnsResponse {
  id: number;
  opcode: number;
  rcode: DnsRcode;
  authoritative: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  checkingDisabled?: boolean;
  question?: DnsQuestion;
  answers?: DnsRecord[];
  authority?: DnsRecord[];
  additional?: DnsRecord[];
}

function splitName(name: string): string[] {
  return name === '' ? [] : name.split('.');
}

/** A growing buffer with name compression: every suffix written is remembered with its offset. */
class Writer {
  private bytes = Buffer.alloc(512);
  length = 0;
  private readonly suffixes = new Map<string, number>();

  private reserve(count: number): void {
    if (this.length + count <= this.bytes.length) return;
    const grown = Buffer.alloc(Math.max(this.bytes.length * 2, this.length + count));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }

  u8(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value & 0xff;
  }

  u16(value: number): void {
    this.reserve(2);
    this.bytes.writeUInt16BE(value & 0xffff, this.length);
    this.length += 2;
  }

  u32(value: number): void {
    this.reserve(4);
    this.bytes.writeUInt32BE(value >>> 0, this.length);
    this.length += 4;
  }

  raw(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  setU16(offset: number, value: number): void {
    this.bytes.writeUInt16BE(value & 0xffff, offset);
  }

  name(labels: readonly string[]): void {
    for (let index = 0; index < labels.length; index++) {
      // Case-insensitive match (RFC 1035 §2.3.3); JSON keeps a label holding a dot apart from two labels.
      const key = JSON.stringify(labels.slice(index).map((label) => label.toLowerCase()));
      const known = this.suffixes.get(key);
      if (known !== undefined) {
        this.u16(0xc000 | known);
        return;
      }
      if (this.length < 0x4000) this.suffixes.set(key, this.length);
      const label = Buffer.from(labels[index] ?? '', 'latin1');
      if (label.length === 0 || label.length > MAX_LABEL_LENGTH) {
        throw new RangeError(`label "${labels[index] ?? ''}" must be 1 to 63 bytes`);
      }
      this.u8(label.length);
      this.raw(label);
    }
    this.u8(0);
  }

  result(): Uint8Array {
    return new Uint8Array(this.bytes.subarray(0, this.length));
  }
}

function ipv4Bytes(address: string): Uint8Array {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) {
    throw new RangeError(`"${address}" is not an IPv4 address`);
  }
  return Uint8Array.from(parts);
}

function writeRecord(writer: Writer, record: DnsRecord): void {
  writer.name(splitName(record.name));
  const type = record.data.type === 'A' ? DnsType.A : record.data.type === 'SRV' ? DnsType.SRV : DnsType.SOA;
  writer.u16(type);
  writer.u16(DNS_CLASS_IN);
  writer.u32(record.ttl);
  const lengthAt = writer.length;
  writer.u16(0);
  const dataStart = writer.length;
  const data = record.data;
  if (data.type === 'A') {
    writer.raw(ipv4Bytes(data.address));
  } else if (data.type === 'SRV') {
    writer.u16(data.priority);
    writer.u16(data.weight);
    writer.u16(data.port);
    // RFC 2782 forbids compressing the target; some resolvers do not follow a pointer there.
    for (const label of splitName(data.target)) {
      const bytes = Buffer.from(label, 'latin1');
      writer.u8(bytes.length);
      writer.raw(bytes);
    }
    writer.u8(0);
  } else {
    writer.name(splitName(data.primary));
    writer.name(splitName(data.mailbox));
    writer.u32(data.serial);
    writer.u32(data.refresh);
    writer.u32(data.retry);
    writer.u32(data.expire);
    writer.u32(data.minimum);
  }
  writer.setU16(lengthAt, writer.length - dataStart);
}

function encodeOnce(response: DnsResponse, truncated: boolean): Uint8Array {
  const writer = new Writer();
  const answers = truncated ? [] : (response.answers ?? []);
  const authority = truncated ? [] : (response.authority ?? []);
  const additional = truncated ? [] : (response.additional ?? []);
  writer.u16(response.id);
  let flags = 0x8000 | ((response.opcode & 0x0f) << 11) | (response.rcode & 0x0f);
  if (response.authoritative) flags |= 0x0400;
  if (truncated) flags |= 0x0200;
  if (response.recursionDesired) flags |= 0x0100;
  if (response.recursionAvailable) flags |= 0x0080;
  if (response.checkingDisabled === true) flags |= 0x0010;
  writer.u16(flags);
  writer.u16(response.question ? 1 : 0);
  writer.u16(answers.length);
  writer.u16(authority.length);
  writer.u16(additional.length);
  if (response.question) {
    writer.name(response.question.labels);
    writer.u16(response.question.type);
    writer.u16(response.question.class);
  }
  for (const record of [...answers, ...authority, ...additional]) writeRecord(writer, record);
  return writer.result();
}

/**
 * Encodes a response. Over `maxSize` (512 for UDP) the records are left out and TC is set, so the
 * resolver asks again over TCP (RFC 7766), where the whole answer fits.
 */
export function encodeResponse(response: DnsResponse, maxSize = 65_535): Uint8Array {
  const full = encodeOnce(response, false);
  if (full.length <= maxSize) return full;
  return encodeOnce(response, true);
}

/** The dotted, lower-case form of a question's name, for lookups. */
export function questionName(question: DnsQuestion): string {
  return question.labels.join('.').toLowerCase();
}
