import {
  CompareResult,
  CompareTarget,
  decodeCompactionResponse,
  decodeRangeResponse,
  decodeTxnResponse,
  encodeCompactionRequest,
  encodeRangeRequest,
  encodeTxnRequest,
  encodeTxnRequestFramed,
  type RangeRequest,
  type TxnRequest,
} from './etcd-protobuf.util';

const key = Buffer.from('/a');
const hex = (buffer: Buffer): string => buffer.toString('hex');

describe('etcd protobuf encoding', () => {
  // Expected bytes were cross-checked by decoding them with protobufjs and etcd's own rpc.proto.
  it.each<[string, RangeRequest, string]>([
    ['a key, count only', { key, countOnly: true }, '0a022f61' + '4801'],
    [
      'a range with limit 300 and revision 2^40',
      { key, rangeEnd: Buffer.from('/b'), limit: 300, revision: 2 ** 40 },
      '0a022f61' + '12022f62' + '18ac02' + '20808080808020',
    ],
    ['zero limit and revision left out', { key, limit: 0, revision: 0 }, '0a022f61'],
  ])('RangeRequest: %s', (_name, request, expected) => {
    expect(hex(encodeRangeRequest(request))).toBe(expected);
  });

  it.each<[string, TxnRequest, string]>([
    [
      'create: compare create_revision = 0 (sent although zero), then put',
      {
        compare: [{ key, target: CompareTarget.Create, result: CompareResult.Equal, revision: 0 }],
        success: [{ put: { key, value: Buffer.from('v') } }],
        failure: [],
      },
      '0a08' + '1001' + '1a022f61' + '2800' + '1209' + '1207' + '0a022f61' + '120176',
    ],
    [
      'conditional delete with prev_kv, range on failure',
      {
        compare: [{ key, target: CompareTarget.Mod, result: CompareResult.Equal, revision: 7 }],
        success: [{ deleteRange: { key, prevKv: true } }],
        failure: [{ range: { key } }],
      },
      '0a08' +
        '1002' +
        '1a022f61' +
        '3007' +
        '1208' +
        '1a06' +
        '0a022f61' +
        '1801' +
        '1a06' +
        '0a04' +
        '0a022f61',
    ],
  ])('TxnRequest: %s', (_name, request, expected) => {
    expect(hex(encodeTxnRequest(request))).toBe(expected);
  });

  it('TxnRequest: a string value is its UTF-8 bytes, and the framed form is the gRPC frame of the same bytes', () => {
    const value = '{"name":"caf\u00e9 \u{1f680}"}';
    const request = (put: Buffer | string): TxnRequest => ({
      compare: [{ key, target: CompareTarget.Create, result: CompareResult.Equal, revision: 0 }],
      success: [{ put: { key, value: put } }],
      failure: [{ range: { key, rangeEnd: Buffer.from('/b'), revision: 2 ** 40 } }],
    });
    const message = encodeTxnRequest(request(Buffer.from(value, 'utf8')));
    expect(hex(encodeTxnRequest(request(value)))).toBe(hex(message));
    const framed = encodeTxnRequestFramed(request(value));
    expect(framed[0]).toBe(0);
    expect(framed.readUInt32BE(1)).toBe(message.length);
    expect(hex(framed.subarray(5))).toBe(hex(message));
  });

  it('CompactionRequest', () => {
    expect(hex(encodeCompactionRequest({ revision: 300, physical: true }))).toBe('08ac02' + '1001');
  });

  it('refuses revisions that are not safe non-negative integers', () => {
    expect(() => encodeRangeRequest({ key, revision: -1 })).toThrow(RangeError);
    expect(() => encodeRangeRequest({ key, revision: 2 ** 60 })).toThrow(RangeError);
  });
});

describe('etcd protobuf decoding', () => {
  // A TxnResponse encoded by protobufjs: header with 64-bit cluster/member ids and revision
  // 123456789012, succeeded false, then a range (kvs, more, count), a delete_range and a put answer.
  const txnResponse = Buffer.from(
    '0a1f08b298eaf1948386fccd0110cdd2918bd2b881cf8e011894b4e4f4cb03200510001a2f0a2d0a021809122' +
      '30a102f72656769737472792f706f64732f611007180820022a077b2278223a317d30001801202a1a271a250a0' +
      '2180910011a1d0a102f72656769737472792f706f64732f6118032a077b2278223a317d1a0612040a02180b',
    'hex',
  );

  it('reads a TxnResponse with every kind of answer, skipping fields it does not use', () => {
    const decoded = decodeTxnResponse(txnResponse);
    expect(decoded.revision).toBe(123456789012);
    expect(decoded.succeeded).toBe(false);
    const [range, deleted, put] = decoded.responses;
    expect(range && 'range' in range ? range.range : undefined).toEqual({
      revision: 9,
      kvs: [
        {
          key: Buffer.from('/registry/pods/a'),
          createRevision: 7,
          modRevision: 8,
          version: 2,
          value: Buffer.from('{"x":1}'),
        },
      ],
      more: true,
      count: 42,
    });
    expect(
      deleted && 'deleteRange' in deleted ? deleted.deleteRange.prevKvs[0]?.modRevision : undefined,
    ).toBe(3);
    expect(put).toEqual({ put: { revision: 11 } });
  });

  it.each([
    ['an empty message', '', { revision: 0, kvs: [], more: false, count: 0 }],
    ['a header only', '0a021805', { revision: 5, kvs: [], more: false, count: 0 }],
    [
      'an unknown fixed64 and fixed32 field',
      '39' + '0102030405060708' + '45' + '01020304' + '2003',
      { revision: 0, kvs: [], more: false, count: 3 },
    ],
  ])('reads a RangeResponse of %s', (_name, bytes, expected) => {
    expect(decodeRangeResponse(Buffer.from(bytes, 'hex'))).toEqual(expected);
  });

  it('reads the revision of a CompactionResponse', () => {
    expect(decodeCompactionResponse(Buffer.from('0a0318ac02', 'hex'))).toEqual({ revision: 300 });
  });

  it.each([
    ['a truncated varint', '2080'],
    ['a field longer than its message', '0a05180a'],
    ['an unsupported wire type', '0b'],
  ])('refuses %s', (_name, bytes) => {
    expect(() => decodeRangeResponse(Buffer.from(bytes, 'hex'))).toThrow(RangeError);
  });
});
