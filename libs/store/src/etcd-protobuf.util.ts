// Protocol buffers encoding of the few etcd KV messages the store sends and reads (etcdserverpb
// RangeRequest, TxnRequest, CompactionRequest and their responses, mvccpb.KeyValue), written out
// by hand so a write costs one small Buffer and a read decodes only the fields we use: the generic
// decoder of the etcd3 package builds every field with defaults and turns int64s into strings.
//
// Wire format in one example: RangeRequest { key: "/a", count_only: true } is
//   0a 02 2f 61   field 1 (key), wire type 2 (length-delimited), length 2, bytes "/a"
//   48 01         field 9 (count_only), wire type 0 (varint), value 1
// A tag byte is (field << 3) | wireType; varints carry 7 bits per byte, low bits first, and the
// high bit says another byte follows (300 = ac 02).

export enum CompareTarget {
  Version = 0,
  Create = 1,
  Mod = 2,
  Value = 3,
  Lease = 4,
}

export enum CompareResult {
  Equal = 0,
  Greater = 1,
  Less = 2,
  NotEqual = 3,
}

export interface Compare {
  key: Buffer;
  target: CompareTarget.Create | CompareTarget.Mod | CompareTarget.Version;
  result: CompareResult;
  /** The revision (or version) compared with; which field carries it follows from `target`. */
  revision: number;
}

export interface RangeRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  limit?: number;
  revision?: number;
  countOnly?: boolean;
}

export type RequestOp =
  /** A string value is sent as its UTF-8 bytes. */
  | { put: { key: Buffer; value: Buffer | string } }
  | { range: RangeRequest }
  | { deleteRange: { key: Buffer; prevKv?: boolean } };

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface KeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Buffer;
}

export interface RangeResponse {
  revision: number;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface DeleteRangeResponse {
  revision: number;
  deleted: number;
  prevKvs: KeyValue[];
}

export type ResponseOp =
  { range: RangeResponse } | { put: { revision: number } } | { deleteRange: DeleteRangeResponse };

export interface TxnResponse {
  revision: number;
  succeeded: boolean;
  responses: ResponseOp[];
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

// ---------------------------------------------------------------------------------------------
// Encoding

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    length++;
  }
  return length;
}

/**
 * Collects protobuf fields and writes them into one buffer at the end: varints stay numbers,
 * embedded messages stay writers and strings stay strings until then, so a request (the etcd
 * value inside a put inside a txn, in its gRPC frame) is encoded and copied exactly once.
 */
class Writer {
  private readonly parts: (number | Buffer | string | Writer)[] = [];
  /** Encoded bytes of the parts; a string's are counted once, when it is added. */
  length = 0;

  private add(part: number | Buffer | string | Writer, size: number): void {
    this.parts.push(part);
    this.length += size;
  }

  private varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`protobuf varint out of range: ${value}`);
    }
    this.add(value, varintLength(value));
  }

  /** A varint field; zero is the default and is left out, as proto3 encoders do. */
  uint(field: number, value: number | undefined): this {
    if (value === undefined || value === 0) return this;
    this.varint((field << 3) | VARINT);
    this.varint(value);
    return this;
  }

  /** A varint member of a oneof: written even when zero, since its presence is the information. */
  oneofUint(field: number, value: number): this {
    this.varint((field << 3) | VARINT);
    this.varint(value);
    return this;
  }

  bool(field: number, value: boolean | undefined): this {
    return this.uint(field, value ? 1 : 0);
  }

  /** A bytes field; a string is written as its UTF-8 bytes. */
  bytes(field: number, value: Buffer | string | undefined): this {
    if (value === undefined) return this;
    const size = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
    this.varint((field << 3) | LENGTH_DELIMITED);
    this.varint(size);
    this.add(value, size);
    return this;
  }

  /** An embedded message; empty messages are still written so a oneof member stays set. */
  message(field: number, value: Writer): this {
    this.varint((field << 3) | LENGTH_DELIMITED);
    this.varint(value.length);
    this.add(value, value.length);
    return this;
  }

  /** Writes the fields at `offset`; returns the offset after them. */
  writeInto(target: Buffer, offset: number): number {
    for (const part of this.parts) {
      if (typeof part === 'number') {
        let value = part;
        while (value >= 0x80) {
          target[offset++] = (value % 0x80) | 0x80;
          value = Math.floor(value / 0x80);
        }
        target[offset++] = value;
      } else if (typeof part === 'string') {
        // The buffer was sized from this string's byteLength, so it is written whole.
        offset += target.write(part, offset, 'utf8');
      } else if (part instanceof Writer) {
        offset = part.writeInto(target, offset);
      } else {
        offset += part.copy(target, offset);
      }
    }
    return offset;
  }

  finish(): Buffer {
    const target = Buffer.allocUnsafe(this.length);
    this.writeInto(target, 0);
    return target;
  }

  /** The message as one gRPC length-prefixed frame (see grpcFramed). */
  finishFramed(): Buffer {
    const target = Buffer.allocUnsafe(GRPC_FRAME_HEADER_BYTES + this.length);
    writeGrpcFrameHeader(target, this.length);
    this.writeInto(target, GRPC_FRAME_HEADER_BYTES);
    return target;
  }
}

/** gRPC's length prefix: flag byte 0 (uncompressed), then the message length, 4 bytes big-endian. */
const GRPC_FRAME_HEADER_BYTES = 5;

function writeGrpcFrameHeader(target: Buffer, messageLength: number): void {
  target[0] = 0;
  target.writeUInt32BE(messageLength, 1);
}

/** An encoded message in its gRPC length-prefixed frame (a copy; Writer.finishFramed avoids it). */
export function grpcFramed(message: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(GRPC_FRAME_HEADER_BYTES + message.length);
  writeGrpcFrameHeader(framed, message.length);
  message.copy(framed, GRPC_FRAME_HEADER_BYTES);
  return framed;
}

function rangeWriter(request: RangeRequest): Writer {
  return new Writer()
    .bytes(1, request.key)
    .bytes(2, request.rangeEnd)
    .uint(3, request.limit)
    .uint(4, request.revision)
    .bool(9, request.countOnly);
}

export function encodeRangeRequest(request: RangeRequest): Buffer {
  return rangeWriter(request).finish();
}

function compareWriter(compare: Compare): Writer {
  // Compare.target_union: version = 4, create_revision = 5, mod_revision = 6.
  const unionField =
    compare.target === CompareTarget.Version ? 4 : compare.target === CompareTarget.Create ? 5 : 6;
  const writer = new Writer().uint(1, compare.result).uint(2, compare.target).bytes(3, compare.key);
  // A oneof member is sent even when zero: its presence selects what etcd compares against.
  return writer.oneofUint(unionField, compare.revision);
}

function requestOpWriter(op: RequestOp): Writer {
  const writer = new Writer();
  if ('put' in op) {
    writer.message(2, new Writer().bytes(1, op.put.key).bytes(2, op.put.value));
  } else if ('range' in op) {
    writer.message(1, rangeWriter(op.range));
  } else {
    writer.message(3, new Writer().bytes(1, op.deleteRange.key).bool(3, op.deleteRange.prevKv));
  }
  return writer;
}

function txnWriter(request: TxnRequest): Writer {
  const writer = new Writer();
  for (const compare of request.compare) writer.message(1, compareWriter(compare));
  for (const op of request.success) writer.message(2, requestOpWriter(op));
  for (const op of request.failure) writer.message(3, requestOpWriter(op));
  return writer;
}

export function encodeTxnRequest(request: TxnRequest): Buffer {
  return txnWriter(request).finish();
}

/** encodeTxnRequest's bytes already in their gRPC frame (EtcdKvClient.callFramed): one copy. */
export function encodeTxnRequestFramed(request: TxnRequest): Buffer {
  return txnWriter(request).finishFramed();
}

export function encodeCompactionRequest(request: { revision: number; physical: boolean }): Buffer {
  return new Writer().uint(1, request.revision).bool(2, request.physical).finish();
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Reads fields of one message; unknown fields are skipped by wire type. */
class Reader {
  private position: number;

  constructor(
    private readonly buffer: Buffer,
    start = 0,
    private readonly end = buffer.length,
  ) {
    this.position = start;
  }

  get done(): boolean {
    return this.position >= this.end;
  }

  /**
   * A varint as a number. Values past 2^53 (etcd's random cluster and member ids) lose precision;
   * the store never uses those, and revisions stay far below it.
   */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let count = 0; count < 10; count++) {
      if (this.position >= this.end) throw new RangeError('protobuf: truncated varint');
      const byte = this.buffer[this.position++] ?? 0;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw new RangeError('protobuf: varint longer than 10 bytes');
  }

  tag(): { field: number; wireType: number } {
    const tag = this.varint();
    return { field: Math.floor(tag / 8), wireType: tag % 8 };
  }

  /** The bounds of a length-delimited field, for a nested reader or a copy-free slice. */
  delimited(): { start: number; end: number } {
    const length = this.varint();
    const start = this.position;
    const end = start + length;
    if (end > this.end) throw new RangeError('protobuf: length-delimited field runs past its message');
    this.position = end;
    return { start, end };
  }

  bytes(): Buffer {
    const { start, end } = this.delimited();
    return this.buffer.subarray(start, end);
  }

  nested(): Reader {
    const { start, end } = this.delimited();
    return new Reader(this.buffer, start, end);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.position += 8;
        return;
      case LENGTH_DELIMITED:
        this.delimited();
        return;
      case FIXED32:
        this.position += 4;
        return;
      default:
        throw new RangeError(`protobuf: unsupported wire type ${wireType}`);
    }
  }
}

/** ResponseHeader: only revision (field 3) matters to the store. */
function readHeaderRevision(reader: Reader): number {
  let revision = 0;
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 3 && wireType === VARINT) revision = reader.varint();
    else reader.skip(wireType);
  }
  return revision;
}

function readKeyValue(reader: Reader): KeyValue {
  const kv: KeyValue = {
    key: Buffer.alloc(0),
    createRevision: 0,
    modRevision: 0,
    version: 0,
    value: Buffer.alloc(0),
  };
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) kv.key = reader.bytes();
    else if (field === 2 && wireType === VARINT) kv.createRevision = reader.varint();
    else if (field === 3 && wireType === VARINT) kv.modRevision = reader.varint();
    else if (field === 4 && wireType === VARINT) kv.version = reader.varint();
    else if (field === 5 && wireType === LENGTH_DELIMITED) kv.value = reader.bytes();
    else reader.skip(wireType);
  }
  return kv;
}

function readRangeResponse(reader: Reader): RangeResponse {
  const response: RangeResponse = { revision: 0, kvs: [], more: false, count: 0 };
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) response.revision = readHeaderRevision(reader.nested());
    else if (field === 2 && wireType === LENGTH_DELIMITED) response.kvs.push(readKeyValue(reader.nested()));
    else if (field === 3 && wireType === VARINT) response.more = reader.varint() !== 0;
    else if (field === 4 && wireType === VARINT) response.count = reader.varint();
    else reader.skip(wireType);
  }
  return response;
}

function readDeleteRangeResponse(reader: Reader): DeleteRangeResponse {
  const response: DeleteRangeResponse = { revision: 0, deleted: 0, prevKvs: [] };
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) response.revision = readHeaderRevision(reader.nested());
    else if (field === 2 && wireType === VARINT) response.deleted = reader.varint();
    else if (field === 3 && wireType === LENGTH_DELIMITED)
      response.prevKvs.push(readKeyValue(reader.nested()));
    else reader.skip(wireType);
  }
  return response;
}

function readResponseOp(reader: Reader): ResponseOp | undefined {
  let op: ResponseOp | undefined;
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) op = { range: readRangeResponse(reader.nested()) };
    else if (field === 2 && wireType === LENGTH_DELIMITED) {
      const put = reader.nested();
      let revision = 0;
      while (!put.done) {
        const tag = put.tag();
        if (tag.field === 1 && tag.wireType === LENGTH_DELIMITED) revision = readHeaderRevision(put.nested());
        else put.skip(tag.wireType);
      }
      op = { put: { revision } };
    } else if (field === 3 && wireType === LENGTH_DELIMITED) {
      op = { deleteRange: readDeleteRangeResponse(reader.nested()) };
    } else reader.skip(wireType);
  }
  return op;
}

export function decodeRangeResponse(buffer: Buffer): RangeResponse {
  return readRangeResponse(new Reader(buffer));
}

export function decodeTxnResponse(buffer: Buffer): TxnResponse {
  const reader = new Reader(buffer);
  const response: TxnResponse = { revision: 0, succeeded: false, responses: [] };
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) response.revision = readHeaderRevision(reader.nested());
    else if (field === 2 && wireType === VARINT) response.succeeded = reader.varint() !== 0;
    else if (field === 3 && wireType === LENGTH_DELIMITED) {
      const op = readResponseOp(reader.nested());
      if (op) response.responses.push(op);
    } else reader.skip(wireType);
  }
  return response;
}

/** CompactionResponse carries only the header. */
export function decodeCompactionResponse(buffer: Buffer): { revision: number } {
  const reader = new Reader(buffer);
  let revision = 0;
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) revision = readHeaderRevision(reader.nested());
    else reader.skip(wireType);
  }
  return { revision };
}
