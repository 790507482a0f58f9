// HPACK (RFC 7541) for the etcd client's HTTP/2 connection. Decoding is complete (static and
// dynamic tables, Huffman, table size updates) because etcd's Go encoder indexes and Huffman-codes
// freely and one mis-decoded block desynchronises every later one. Encoding only ever emits
// literals without indexing (static-table names where there are some), so the peer's decoder needs
// no table state of ours and a method's header block can be built once.
import { HUFFMAN_CODE_LENGTHS, HUFFMAN_CODES } from './hpack-huffman.table';

export type HeaderField = [name: string, value: string];

/** A header block that breaks RFC 7541: the connection must end (COMPRESSION_ERROR). */
export class HpackError extends Error {
  constructor(message: string) {
    super(`HPACK: ${message}`);
    this.name = 'HpackError';
  }
}

/** RFC 7541 Appendix A; index 1 is the first entry. */
const STATIC_TABLE: readonly HeaderField[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/** RFC 7541 4.1: an entry's size is its name and value octets plus 32. */
const ENTRY_OVERHEAD = 32;

/**
 * Huffman decoding tree over bits, as a flat array: node n's children are at 2n (bit 0) and 2n+1
 * (bit 1); a child value >= 0 is the next node, -1 - symbol a leaf, and NO_CHILD a code no symbol
 * has (the all-ones tail past EOS).
 */
const NO_CHILD = -1000;
const huffmanTree: Int32Array = buildHuffmanTree();

function buildHuffmanTree(): Int32Array {
  // 257 leaves in a full binary tree: 256 inner nodes.
  const tree = new Int32Array(2 * 257).fill(NO_CHILD);
  let nodes = 1;
  for (let symbol = 0; symbol < HUFFMAN_CODES.length; symbol++) {
    const code = HUFFMAN_CODES[symbol] ?? 0;
    const length = HUFFMAN_CODE_LENGTHS[symbol] ?? 0;
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const slot = 2 * node + ((code >>> bit) & 1);
      if (bit === 0) {
        tree[slot] = -1 - symbol;
      } else {
        let next = tree[slot] ?? NO_CHILD;
        if (next === NO_CHILD) {
          next = nodes++;
          tree[slot] = next;
        }
        node = next;
      }
    }
  }
  return tree;
}

/** RFC 7541 5.2: the octets Huffman-decoded; padding must be under 8 bits and all ones. */
export function huffmanDecode(input: Buffer, start: number, end: number): Buffer {
  // No code is shorter than 5 bits, so the output is at most 8/5 of the input.
  const out = Buffer.allocUnsafe(Math.ceil(((end - start) * 8) / 5));
  let length = 0;
  let node = 0;
  let pendingBits = 0;
  let pendingAllOnes = true;
  for (let index = start; index < end; index++) {
    const byte = input[index] ?? 0;
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >>> bit) & 1;
      const child = huffmanTree[2 * node + one] ?? NO_CHILD;
      pendingBits++;
      pendingAllOnes = pendingAllOnes && one === 1;
      if (child === NO_CHILD) throw new HpackError('invalid Huffman code');
      if (child < 0) {
        const symbol = -1 - child;
        if (symbol === 256) throw new HpackError('EOS inside a Huffman-coded string');
        out[length++] = symbol;
        node = 0;
        pendingBits = 0;
        pendingAllOnes = true;
      } else {
        node = child;
      }
    }
  }
  if (pendingBits > 7 || !pendingAllOnes) throw new HpackError('invalid Huffman padding');
  return out.subarray(0, length);
}

/** Reads HPACK's prefixed integers and strings from one header block. */
class BlockReader {
  position: number;

  constructor(
    private readonly block: Buffer,
    start: number,
    private readonly end: number,
  ) {
    this.position = start;
  }

  done(): boolean {
    return this.position >= this.end;
  }

  /** RFC 7541 5.1, with the first octet's prefix of `bits` bits. */
  integer(bits: number): number {
    const mask = (1 << bits) - 1;
    if (this.position >= this.end) throw new HpackError('header block ends inside an integer');
    let value = (this.block[this.position++] ?? 0) & mask;
    if (value < mask) return value;
    let shift = 0;
    for (;;) {
      if (this.position >= this.end) throw new HpackError('header block ends inside an integer');
      const byte = this.block[this.position++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      // Nothing here is bigger than a header block; refuse before the value loses precision.
      if (value > 0x7fffffff) throw new HpackError('integer too large');
      if ((byte & 0x80) === 0) return value;
    }
  }

  /** RFC 7541 5.2. Header octets become a latin1 string, one character per octet. */
  string(): string {
    if (this.position >= this.end) throw new HpackError('header block ends before a string');
    const huffman = ((this.block[this.position] ?? 0) & 0x80) !== 0;
    const length = this.integer(7);
    const start = this.position;
    const stop = start + length;
    if (stop > this.end) throw new HpackError('string runs past the header block');
    this.position = stop;
    return huffman
      ? huffmanDecode(this.block, start, stop).toString('latin1')
      : this.block.toString('latin1', start, stop);
  }
}

/** One connection's decoding context: the dynamic table persists from block to block. */
export class HpackDecoder {
  /** Newest first, as indexes count them. */
  private readonly dynamic: HeaderField[] = [];
  private size = 0;
  private maxSize: number;

  /** `maxTableSize` is the SETTINGS_HEADER_TABLE_SIZE we sent (4,096 unless changed). */
  constructor(private readonly maxTableSize = 4096) {
    this.maxSize = maxTableSize;
  }

  /** The table's size in octets (RFC 7541 4.1), for tests and diagnostics. */
  tableSize(): number {
    return this.size;
  }

  /** Every field of one complete header block (HEADERS plus its CONTINUATIONs), in order. */
  decode(block: Buffer, start = 0, end = block.length): HeaderField[] {
    const reader = new BlockReader(block, start, end);
    const fields: HeaderField[] = [];
    let fieldSeen = false;
    while (!reader.done()) {
      const first = block[reader.position] ?? 0;
      if (first & 0x80) {
        // 6.1 Indexed Header Field.
        const index = reader.integer(7);
        if (index === 0) throw new HpackError('index 0');
        fields.push(this.entry(index));
        fieldSeen = true;
      } else if (first & 0x40) {
        // 6.2.1 Literal with Incremental Indexing.
        const field = this.literal(reader, 6);
        this.insert(field);
        fields.push(field);
        fieldSeen = true;
      } else if (first & 0x20) {
        // 6.3 Dynamic Table Size Update: only at the start of a block (4.2).
        if (fieldSeen) throw new HpackError('table size update after a header field');
        const size = reader.integer(5);
        if (size > this.maxTableSize)
          throw new HpackError(`table size ${size} over the ${this.maxTableSize} allowed`);
        this.maxSize = size;
        this.evict(0);
      } else {
        // 6.2.2 without indexing (0000) and 6.2.3 never indexed (0001): the same to a decoder.
        fields.push(this.literal(reader, 4));
        fieldSeen = true;
      }
    }
    return fields;
  }

  private literal(reader: BlockReader, bits: number): HeaderField {
    const index = reader.integer(bits);
    const name = index === 0 ? reader.string() : this.entry(index)[0];
    return [name, reader.string()];
  }

  private entry(index: number): HeaderField {
    if (index <= STATIC_TABLE.length) {
      const field = STATIC_TABLE[index - 1];
      if (field) return field;
    }
    const field = this.dynamic[index - STATIC_TABLE.length - 1];
    if (!field) throw new HpackError(`index ${index} is in neither table`);
    return field;
  }

  private insert(field: HeaderField): void {
    const entrySize = field[0].length + field[1].length + ENTRY_OVERHEAD;
    // 4.4: an entry larger than the table empties it and is not added.
    this.evict(entrySize);
    if (entrySize > this.maxSize) return;
    this.dynamic.unshift(field);
    this.size += entrySize;
  }

  /** Drops the oldest entries until `room` more octets fit. */
  private evict(room: number): void {
    while (this.size + room > this.maxSize && this.dynamic.length > 0) {
      const oldest = this.dynamic.pop();
      if (oldest) this.size -= oldest[0].length + oldest[1].length + ENTRY_OVERHEAD;
    }
  }
}

function encodeInteger(out: number[], value: number, bits: number, flags: number): void {
  const mask = (1 << bits) - 1;
  if (value < mask) {
    out.push(flags | value);
    return;
  }
  out.push(flags | mask);
  let rest = value - mask;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

function encodeString(out: number[], text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  encodeInteger(out, bytes.length, 7, 0);
  for (const byte of bytes) out.push(byte);
}

/**
 * Fields as literals without indexing (RFC 7541 6.2.2): a static-table name by its index, any
 * other name spelled out; values never Huffman-coded. Nothing enters the peer's dynamic table.
 */
export function encodeLiteralHeaders(fields: readonly HeaderField[]): Buffer {
  const out: number[] = [];
  for (const [name, value] of fields) {
    const index = STATIC_TABLE.findIndex(([staticName]) => staticName === name);
    if (index >= 0) encodeInteger(out, index + 1, 4, 0x00);
    else {
      out.push(0x00);
      encodeString(out, name);
    }
    encodeString(out, value);
  }
  return Buffer.from(out);
}
