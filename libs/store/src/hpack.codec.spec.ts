import {
  HpackDecoder,
  HpackError,
  encodeLiteralHeaders,
  huffmanDecode,
  type HeaderField,
} from './hpack.codec';

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

const firstRequest: HeaderField[] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/'],
  [':authority', 'www.example.com'],
];
const secondRequest: HeaderField[] = [...firstRequest, ['cache-control', 'no-cache']];
const thirdRequest: HeaderField[] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  [':authority', 'www.example.com'],
  ['custom-key', 'custom-value'],
];

describe('HPACK decoding (RFC 7541 Appendix C)', () => {
  it.each<[string, string, HeaderField[]]>([
    [
      'C.2.1 literal with indexing',
      '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572',
      [['custom-key', 'custom-header']],
    ],
    ['C.2.2 literal without indexing', '040c 2f73 616d 706c 652f 7061 7468', [[':path', '/sample/path']]],
    ['C.2.3 literal never indexed', '1008 7061 7373 776f 7264 0673 6563 7265 74', [['password', 'secret']]],
    ['C.2.4 indexed', '82', [[':method', 'GET']]],
  ])('%s', (_name, hex, expected) => {
    expect(new HpackDecoder().decode(bytes(hex))).toEqual(expected);
  });

  it('C.2: only literal with indexing enters the dynamic table', () => {
    const withIndexing = new HpackDecoder();
    withIndexing.decode(bytes('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    expect(withIndexing.tableSize()).toBe(55);
    const without = new HpackDecoder();
    without.decode(bytes('040c 2f73 616d 706c 652f 7061 7468'));
    expect(without.tableSize()).toBe(0);
  });

  it('C.3 requests without Huffman share one dynamic table', () => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(bytes('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'))).toEqual(firstRequest);
    expect(decoder.tableSize()).toBe(57);
    expect(decoder.decode(bytes('8286 84be 5808 6e6f 2d63 6163 6865'))).toEqual(secondRequest);
    expect(decoder.tableSize()).toBe(110);
    expect(
      decoder.decode(bytes('8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65')),
    ).toEqual(thirdRequest);
    expect(decoder.tableSize()).toBe(164);
  });

  it('C.4 requests with Huffman', () => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(bytes('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'))).toEqual(firstRequest);
    expect(decoder.decode(bytes('8286 84be 5886 a8eb 1064 9cbf'))).toEqual(secondRequest);
    expect(decoder.decode(bytes('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'))).toEqual(
      thirdRequest,
    );
    expect(decoder.tableSize()).toBe(164);
  });

  const responses: HeaderField[][] = [
    [
      [':status', '302'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ],
    [
      [':status', '307'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ],
    [
      [':status', '200'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
      ['location', 'https://www.example.com'],
      ['content-encoding', 'gzip'],
      ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
    ],
  ];

  it('C.5 responses without Huffman evict from a 256-octet table', () => {
    const decoder = new HpackDecoder(256);
    // The encoder announces the smaller table first (RFC 7541 6.3), as Appendix C assumes it set.
    decoder.decode(bytes('3fe1 01'));
    expect(
      decoder.decode(
        bytes(
          '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
        ),
      ),
    ).toEqual(responses[0]);
    expect(decoder.tableSize()).toBe(222);
    expect(decoder.decode(bytes('4803 3330 37c1 c0bf'))).toEqual(responses[1]);
    expect(decoder.tableSize()).toBe(222);
    expect(
      decoder.decode(
        bytes(
          '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
        ),
      ),
    ).toEqual(responses[2]);
    expect(decoder.tableSize()).toBe(215);
  });

  it('C.6 responses with Huffman evict from a 256-octet table', () => {
    const decoder = new HpackDecoder(256);
    decoder.decode(bytes('3fe1 01'));
    expect(
      decoder.decode(
        bytes(
          '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
        ),
      ),
    ).toEqual(responses[0]);
    expect(decoder.tableSize()).toBe(222);
    expect(decoder.decode(bytes('4883 640e ffc1 c0bf'))).toEqual(responses[1]);
    expect(decoder.tableSize()).toBe(222);
    expect(
      decoder.decode(
        bytes(
          '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
        ),
      ),
    ).toEqual(responses[2]);
    expect(decoder.tableSize()).toBe(215);
  });

  it('refuses a table size update above the size we allowed, or after a field', () => {
    expect(() => new HpackDecoder(256).decode(bytes('3fe2 01'))).toThrow(HpackError);
    expect(() => new HpackDecoder().decode(bytes('82 20'))).toThrow('table size update after a header field');
  });

  it('a table size update of 0 empties the table', () => {
    const decoder = new HpackDecoder();
    decoder.decode(bytes('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    expect(decoder.decode(bytes('20'))).toEqual([]);
    expect(decoder.tableSize()).toBe(0);
    expect(() => decoder.decode(bytes('be'))).toThrow('index 62 is in neither table');
  });

  it('refuses index 0, truncated blocks and integers that overflow', () => {
    expect(() => new HpackDecoder().decode(bytes('80'))).toThrow('index 0');
    expect(() => new HpackDecoder().decode(bytes('040c 2f73'))).toThrow('string runs past the header block');
    expect(() => new HpackDecoder().decode(bytes('ff'))).toThrow('ends inside an integer');
    expect(() => new HpackDecoder().decode(bytes('ff ffff ffff ff0f'))).toThrow('integer too large');
  });
});

describe('Huffman decoding (RFC 7541 5.2)', () => {
  const huffman = (hex: string): string => {
    const input = bytes(hex);
    return huffmanDecode(input, 0, input.length).toString('latin1');
  };

  it('decodes codes of every length, across octet boundaries', () => {
    expect(huffman('f1e3 c2e5 f23a 6ba0 ab90 f4ff')).toBe('www.example.com');
    expect(huffman('25a8 49e9 5bb8 e8b4 bf')).toBe('custom-value');
    expect(huffman('6402')).toBe('302');
    expect(huffman('')).toBe('');
  });

  it('refuses padding of 8 bits or more, padding with zeros, and EOS in the string', () => {
    // "0" is 00000 followed by a whole octet of ones.
    expect(() => huffman('07ff')).toThrow('invalid Huffman padding');
    // "0" then 000: padding must be the start of EOS (all ones).
    expect(() => huffman('00')).toThrow('invalid Huffman padding');
    // EOS is 30 ones; 32 ones contain it.
    expect(() => huffman('ffff ffff')).toThrow('EOS inside a Huffman-coded string');
  });
});

describe('literal header encoding', () => {
  it('uses static-table names, spells others out, and leaves the dynamic table alone', () => {
    const fields: HeaderField[] = [
      [':method', 'POST'],
      [':path', '/etcdserverpb.KV/Txn'],
      ['content-type', 'application/grpc'],
      ['grpc-timeout', '10000m'],
    ];
    const block = encodeLiteralHeaders(fields);
    // :method is static index 2: 0000 0010, then the value's length and octets.
    expect(block.subarray(0, 2).toString('hex')).toBe('0204');
    const decoder = new HpackDecoder();
    expect(decoder.decode(block)).toEqual(fields);
    expect(decoder.tableSize()).toBe(0);
  });

  it('encodes static indexes over 14 with a continuation octet', () => {
    // content-type is index 31: the 4-bit prefix is full (15), then 16.
    expect(encodeLiteralHeaders([['content-type', 'a']]).toString('hex')).toBe('0f10' + '0161');
  });
});
