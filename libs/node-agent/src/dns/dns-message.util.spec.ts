import {
  DnsRcode,
  DnsType,
  encodeResponse,
  parseQuery,
  questionName,
  type DnsResponse,
} from './dns-message.util';

function header(options: { id?: number; flags?: number; qdcount?: number } = {}): number[] {
  const id = options.id ?? 0x1234;
  const flags = options.flags ?? 0x0100;
  const qdcount = options.qdcount ?? 1;
  return [id >> 8, id & 0xff, flags >> 8, flags & 0xff, 0, qdcount, 0, 0, 0, 0, 0, 0];
}

function name(...labels: string[]): number[] {
  return [...labels.flatMap((label) => [label.length, ...Buffer.from(label, 'latin1')]), 0];
}

function packet(...parts: number[][]): Uint8Array {
  return Uint8Array.from(parts.flat());
}

const A_IN = [0, 1, 0, 1];

describe('parseQuery', () => {
  const good: Array<{ what: string; bytes: Uint8Array; labels: string[]; type: number }> = [
    {
      what: 'the worked example',
      bytes: packet(header(), name('web', 'shop'), A_IN),
      labels: ['web', 'shop'],
      type: DnsType.A,
    },
    {
      what: 'mixed case kept as sent',
      bytes: packet(header(), name('WeB', 'Shop', 'svc', 'cluster', 'local'), [0, 28, 0, 1]),
      labels: ['WeB', 'Shop', 'svc', 'cluster', 'local'],
      type: DnsType.AAAA,
    },
    { what: 'the root name', bytes: packet(header(), [0], [0, 6, 0, 1]), labels: [], type: DnsType.SOA },
    {
      what: 'a 63-byte label',
      bytes: packet(header(), name('a'.repeat(63), 'local'), A_IN),
      labels: ['a'.repeat(63), 'local'],
      type: DnsType.A,
    },
    {
      what: 'an EDNS OPT record in the additional section (ignored)',
      bytes: packet(
        [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1],
        name('web'),
        A_IN,
        [0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0],
      ),
      labels: ['web'],
      type: DnsType.A,
    },
    {
      // 253 characters of dotted name: four 62-byte labels = 4 × 63 + 1 = 253 bytes on the wire.
      what: 'a name of 253 wire bytes',
      bytes: packet(header(), name('b'.repeat(62), 'c'.repeat(62), 'd'.repeat(62), 'e'.repeat(62)), A_IN),
      labels: ['b'.repeat(62), 'c'.repeat(62), 'd'.repeat(62), 'e'.repeat(62)],
      type: DnsType.A,
    },
  ];
  it.each(good)('reads $what', ({ bytes, labels, type }) => {
    const parsed = parseQuery(bytes);
    expect(parsed).toEqual({
      kind: 'query',
      query: {
        id: 0x1234,
        opcode: 0,
        recursionDesired: true,
        checkingDisabled: false,
        question: { labels, type, class: 1 },
      },
    });
  });

  const hostile: Array<{ what: string; bytes: Uint8Array; rcode: number; reason: RegExp }> = [
    {
      what: 'two questions',
      bytes: packet(header({ qdcount: 2 }), name('a'), A_IN, name('b'), A_IN),
      rcode: DnsRcode.FormErr,
      reason: /QDCOUNT is 2/,
    },
    {
      what: 'no question',
      bytes: packet(header({ qdcount: 0 })),
      rcode: DnsRcode.FormErr,
      reason: /QDCOUNT is 0/,
    },
    {
      what: 'a pointer to itself',
      bytes: packet(header(), [0xc0, 12], A_IN),
      rcode: DnsRcode.FormErr,
      reason: /does not point backwards/,
    },
    {
      what: 'a pointer into the header',
      bytes: packet(header(), [1, 0x61, 0xc0, 2], A_IN),
      rcode: DnsRcode.FormErr,
      reason: /inside the header/,
    },
    {
      what: 'a pointer past the end of the packet',
      bytes: packet(header(), [1, 0x61, 0xff, 0xff], A_IN),
      rcode: DnsRcode.FormErr,
      reason: /does not point backwards/,
    },
    {
      what: 'a cut-off pointer',
      bytes: packet(header(), [1, 0x61, 0xc0]),
      rcode: DnsRcode.FormErr,
      reason: /cut off/,
    },
    {
      what: 'a label of type 0b01 (length 64 and up)',
      bytes: packet(header(), [64, ...Buffer.alloc(64, 0x61), 0], A_IN),
      rcode: DnsRcode.FormErr,
      reason: /at most 63 bytes/,
    },
    {
      what: 'a name longer than 255 bytes',
      bytes: packet(header(), name(...Array.from({ length: 5 }, () => 'f'.repeat(60))), A_IN),
      rcode: DnsRcode.FormErr,
      reason: /longer than 255/,
    },
    {
      what: 'a label running past the end',
      bytes: packet(header(), [10, 0x61, 0x62]),
      rcode: DnsRcode.FormErr,
      reason: /past the end/,
    },
    {
      what: 'a name without its terminating zero',
      bytes: packet(header(), [1, 0x61]),
      rcode: DnsRcode.FormErr,
      reason: /past the end/,
    },
    {
      what: 'a question without type and class',
      bytes: packet(header(), name('a'), [0, 1]),
      rcode: DnsRcode.FormErr,
      reason: /cut off before its type/,
    },
    {
      what: 'an inverse query (opcode 1)',
      bytes: packet(header({ flags: 0x0900 }), name('a'), A_IN),
      rcode: DnsRcode.NotImp,
      reason: /opcode 1/,
    },
    {
      what: 'an update (opcode 5)',
      bytes: packet(header({ flags: 0x2800 }), name('a'), A_IN),
      rcode: DnsRcode.NotImp,
      reason: /opcode 5/,
    },
  ];
  it.each(hostile)('answers $what with an error code and keeps the id', ({ bytes, rcode, reason }) => {
    const parsed = parseQuery(bytes);
    expect(parsed).toMatchObject({ kind: 'error', id: 0x1234, rcode });
    if (parsed.kind === 'error') expect(parsed.reason).toMatch(reason);
  });

  it('refuses a pointer to an earlier label of the same name, which would loop', () => {
    // In a one-question query the only bytes before the name are the header, so every pointer in
    // it either loops through the name itself or points into the header: both are refused.
    expect(parseQuery(packet(header(), [1, 0x61, 1, 0x62, 0xc0, 14], A_IN))).toMatchObject({
      kind: 'error',
      rcode: DnsRcode.FormErr,
    });
  });

  const dropped: Array<{ what: string; bytes: Uint8Array; reason: RegExp }> = [
    { what: 'an empty packet', bytes: new Uint8Array(0), reason: /shorter than a DNS header/ },
    {
      what: 'eleven bytes',
      bytes: Uint8Array.from(header().slice(0, 11)),
      reason: /shorter than a DNS header/,
    },
    {
      what: 'a response',
      bytes: packet(header({ flags: 0x8180 }), name('a'), A_IN),
      reason: /is a response/,
    },
  ];
  it.each(dropped)('sends nothing back for $what', ({ bytes, reason }) => {
    const parsed = parseQuery(bytes);
    expect(parsed.kind).toBe('drop');
    if (parsed.kind === 'drop') expect(parsed.reason).toMatch(reason);
  });

  it('never throws on random bytes', () => {
    // A fixed linear congruential sequence: the same "random" packets every run.
    let seed = 7;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const kinds = new Set<string>();
    for (let round = 0; round < 2000; round++) {
      const length = next() % 80;
      const bytes = Uint8Array.from({ length }, () => next() & 0xff);
      if (length > 4) {
        bytes[2] = (bytes[2] ?? 0) & 0x07; // a query, opcode 0, so the name is reached
        bytes[4] = 0;
        bytes[5] = 1;
      }
      kinds.add(parseQuery(bytes).kind);
    }
    expect([...kinds].sort()).toEqual(['drop', 'error', 'query']);
  });

  it('gives the lower-case dotted name for lookups', () => {
    expect(questionName({ labels: ['WeB', 'Shop'], type: 1, class: 1 })).toBe('web.shop');
  });
});

/** A minimal independent reader for what encodeResponse writes, following pointers. */
function readNameAt(bytes: Uint8Array, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let offset = start;
  let end: number | undefined;
  for (let hops = 0; hops < 50; hops++) {
    const length = bytes[offset] ?? 0;
    if (length >= 0xc0) {
      end ??= offset + 2;
      offset = ((length & 0x3f) << 8) | (bytes[offset + 1] ?? 0);
      continue;
    }
    if (length === 0) return { name: labels.join('.'), end: end ?? offset + 1 };
    labels.push(Buffer.from(bytes.subarray(offset + 1, offset + 1 + length)).toString('latin1'));
    offset += 1 + length;
  }
  throw new Error('pointer loop in encoded response');
}

interface DecodedRecord {
  name: string;
  type: number;
  ttl: number;
  data: string;
}

function decode(bytes: Uint8Array): {
  id: number;
  flags: number;
  counts: number[];
  question?: string;
  records: DecodedRecord[];
} {
  const view = Buffer.from(bytes);
  const counts = [4, 6, 8, 10].map((offset) => view.readUInt16BE(offset));
  let offset = 12;
  let question: string | undefined;
  if (counts[0] === 1) {
    const read = readNameAt(bytes, offset);
    question = read.name;
    offset = read.end + 4;
  }
  const records: DecodedRecord[] = [];
  const total = (counts[1] ?? 0) + (counts[2] ?? 0) + (counts[3] ?? 0);
  for (let index = 0; index < total; index++) {
    const owner = readNameAt(bytes, offset);
    offset = owner.end;
    const type = view.readUInt16BE(offset);
    const ttl = view.readUInt32BE(offset + 4);
    const length = view.readUInt16BE(offset + 8);
    const start = offset + 10;
    let data: string;
    if (type === DnsType.A) data = [...bytes.subarray(start, start + 4)].join('.');
    else if (type === DnsType.SRV) {
      data = `${view.readUInt16BE(start)} ${view.readUInt16BE(start + 2)} ${view.readUInt16BE(start + 4)} ${readNameAt(bytes, start + 6).name}`;
    } else {
      const primary = readNameAt(bytes, start);
      const mailbox = readNameAt(bytes, primary.end);
      data = `${primary.name} ${mailbox.name} ${view.readUInt32BE(mailbox.end + 16)}`;
    }
    records.push({ name: owner.name, type, ttl, data });
    offset = start + length;
  }
  return {
    id: view.readUInt16BE(0),
    flags: view.readUInt16BE(2),
    counts,
    ...(question ? { question } : {}),
    records,
  };
}

describe('encodeResponse', () => {
  const base: DnsResponse = {
    id: 0xbeef,
    opcode: 0,
    rcode: DnsRcode.NoError,
    authoritative: true,
    recursionDesired: true,
    recursionAvailable: false,
    question: { labels: ['WEB', 'shop', 'svc', 'cluster', 'local'], type: DnsType.A, class: 1 },
  };
  const soa = {
    name: 'cluster.local',
    ttl: 5,
    data: {
      type: 'SOA' as const,
      primary: 'ns.dns.cluster.local',
      mailbox: 'hostmaster.cluster.local',
      serial: 1,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: 5,
    },
  };

  const cases: Array<{
    what: string;
    response: DnsResponse;
    flags: number;
    counts: number[];
    records: DecodedRecord[];
  }> = [
    {
      what: 'an A answer',
      response: {
        ...base,
        answers: [{ name: 'web.shop.svc.cluster.local', ttl: 5, data: { type: 'A', address: '10.96.0.12' } }],
      },
      // QR, AA, RD; rcode 0
      flags: 0x8500,
      counts: [1, 1, 0, 0],
      // The owner is a pointer to the question, so it reads in the asker's case (names match
      // case-insensitively; resolvers that randomise the case expect exactly that).
      records: [{ name: 'WEB.shop.svc.cluster.local', type: DnsType.A, ttl: 5, data: '10.96.0.12' }],
    },
    {
      what: 'NXDOMAIN with the SOA in authority',
      response: { ...base, rcode: DnsRcode.NxDomain, authority: [soa] },
      flags: 0x8503,
      counts: [1, 0, 1, 0],
      records: [
        {
          name: 'cluster.local',
          type: DnsType.SOA,
          ttl: 5,
          data: 'ns.dns.cluster.local hostmaster.cluster.local 5',
        },
      ],
    },
    {
      what: 'NODATA (NOERROR, no answer, SOA)',
      response: { ...base, question: { ...base.question!, type: DnsType.AAAA }, authority: [soa] },
      flags: 0x8500,
      counts: [1, 0, 1, 0],
      records: [
        {
          name: 'cluster.local',
          type: DnsType.SOA,
          ttl: 5,
          data: 'ns.dns.cluster.local hostmaster.cluster.local 5',
        },
      ],
    },
    {
      what: 'SRV with its target in additional',
      response: {
        ...base,
        question: {
          labels: ['_http', '_tcp', 'web', 'shop', 'svc', 'cluster', 'local'],
          type: DnsType.SRV,
          class: 1,
        },
        answers: [
          {
            name: '_http._tcp.web.shop.svc.cluster.local',
            ttl: 5,
            data: { type: 'SRV', priority: 0, weight: 100, port: 8080, target: 'web.shop.svc.cluster.local' },
          },
        ],
        additional: [
          { name: 'web.shop.svc.cluster.local', ttl: 5, data: { type: 'A', address: '10.96.0.12' } },
        ],
      },
      flags: 0x8500,
      counts: [1, 1, 0, 1],
      records: [
        {
          name: '_http._tcp.web.shop.svc.cluster.local',
          type: DnsType.SRV,
          ttl: 5,
          data: '0 100 8080 web.shop.svc.cluster.local',
        },
        { name: 'web.shop.svc.cluster.local', type: DnsType.A, ttl: 5, data: '10.96.0.12' },
      ],
    },
    {
      what: 'REFUSED without records, not authoritative, RA when forwarding exists',
      response: { ...base, rcode: DnsRcode.Refused, authoritative: false, recursionAvailable: true },
      flags: 0x8185,
      counts: [1, 0, 0, 0],
      records: [],
    },
  ];
  it.each(cases)('writes $what', ({ response, flags, counts, records }) => {
    const decoded = decode(encodeResponse(response, 512));
    expect(decoded.id).toBe(0xbeef);
    expect(decoded.flags).toBe(flags);
    expect(decoded.counts).toEqual(counts);
    expect(decoded.question).toBe(response.question?.labels.join('.'));
    expect(decoded.records).toEqual(records);
  });

  it('compresses repeated names: the answer owner points at the question', () => {
    const bytes = encodeResponse({
      ...base,
      answers: [{ name: 'web.shop.svc.cluster.local', ttl: 5, data: { type: 'A', address: '10.96.0.12' } }],
    });
    // 12 header + 28 question name + 4 + (2 pointer + 10 + 4 data) = 60.
    expect(bytes.length).toBe(60);
    expect([bytes[44], bytes[45]]).toEqual([0xc0, 12]);
  });

  it('truncates over the UDP limit and sets TC, and keeps everything over TCP', () => {
    const many = Array.from({ length: 60 }, (_, index) => ({
      name: 'db.shop.svc.cluster.local',
      ttl: 5,
      data: { type: 'A' as const, address: `10.88.${index >> 8}.${index & 0xff}` },
    }));
    const response = {
      ...base,
      question: { labels: ['db', 'shop', 'svc', 'cluster', 'local'], type: 1, class: 1 },
      answers: many,
    };
    const udp = decode(encodeResponse(response, 512));
    expect(udp.flags & 0x0200).toBe(0x0200);
    expect(udp.counts).toEqual([1, 0, 0, 0]);
    const tcp = decode(encodeResponse(response));
    expect(tcp.flags & 0x0200).toBe(0);
    expect(tcp.records.map((record) => record.data)).toEqual(many.map((record) => record.data.address));
  });

  it('writes a response without a question (a FORMERR whose question could not be read)', () => {
    const decoded = decode(
      encodeResponse({
        id: 7,
        opcode: 0,
        rcode: DnsRcode.FormErr,
        authoritative: false,
        recursionDesired: false,
        recursionAvailable: false,
      }),
    );
    expect(decoded).toEqual({ id: 7, flags: 0x8001, counts: [0, 0, 0, 0], records: [] });
  });

  it('refuses to write an address that is not IPv4 or a label over 63 bytes', () => {
    expect(() =>
      encodeResponse({
        ...base,
        answers: [{ name: 'x', ttl: 5, data: { type: 'A', address: '10.0.0.256' } }],
      }),
    ).toThrow(/not an IPv4 address/);
    expect(() =>
      encodeResponse({
        ...base,
        answers: [{ name: 'x'.repeat(64), ttl: 5, data: { type: 'A', address: '10.0.0.1' } }],
      }),
    ).toThrow(/1 to 63 bytes/);
  });
});
