import { HttpResponseError, HttpResponseParser, type HttpResponse } from './http-response.parser';

/** Feeds `text` to a fresh parser in pieces of `size` bytes and returns every response. */
function parseInPieces(text: string, size: number, noBody = false): HttpResponse[] {
  const parser = new HttpResponseParser();
  const bytes = Buffer.from(text, 'latin1');
  const responses: HttpResponse[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    responses.push(...parser.push(bytes.subarray(offset, offset + size), noBody));
  }
  return responses;
}

const created =
  'HTTP/1.1 201 Created\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: 14\r\n' +
  'Date: Mon, 23 Nov 2026 20:00:00 GMT\r\n\r\n{"kind":"Pod"}';

describe('HttpResponseParser', () => {
  it.each([1, 2, 7, 1000])('reads a Content-Length response split every %i bytes', (size) => {
    const [response, ...rest] = parseInPieces(created, size);
    expect(rest).toEqual([]);
    expect(response?.status).toBe(201);
    expect(response?.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response?.body.toString()).toBe('{"kind":"Pod"}');
    expect(response?.closes).toBe(false);
  });

  it('reads back-to-back responses from one chunk and keeps the start of the next', () => {
    const parser = new HttpResponseParser();
    const two = parser.push(Buffer.from(`${created}${created}HTTP/1.1 200 OK\r\n`));
    expect(two.map((response) => response.status)).toEqual([201, 201]);
    const third = parser.push(Buffer.from('Content-Length: 2\r\n\r\nok'));
    expect(third.map((response) => response.body.toString())).toEqual(['ok']);
  });

  it.each([1, 3, 1000])(
    'decodes a chunked body with extensions and trailers, split every %i bytes',
    (size) => {
      const text =
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n';
      const [response] = parseInPieces(text, size);
      expect(response?.body.toString()).toBe('hello, world');
    },
  );

  it('skips interim 1xx answers and reads the final one', () => {
    const [response, ...rest] = parseInPieces(`HTTP/1.1 100 Continue\r\n\r\n${created}`, 5);
    expect(rest).toEqual([]);
    expect(response?.status).toBe(201);
  });

  it('reads no body for 204, 304 and answers to HEAD', () => {
    expect(parseInPieces('HTTP/1.1 204 No Content\r\n\r\n', 4)[0]?.body.length).toBe(0);
    expect(parseInPieces('HTTP/1.1 304 Not Modified\r\ncontent-length: 9\r\n\r\n', 4)[0]?.body.length).toBe(
      0,
    );
    const head = parseInPieces('HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n', 4, true);
    expect(head.map((response) => response.body.length)).toEqual([0]);
  });

  it('ends a body without framing at the close of the connection', () => {
    const parser = new HttpResponseParser();
    expect(parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\npart one,'))).toEqual([]);
    expect(parser.push(Buffer.from(' part two'))).toEqual([]);
    const last = parser.end();
    expect(last?.body.toString()).toBe('part one, part two');
    expect(last?.closes).toBe(true);
  });

  it('says whether the server closes the connection after a response', () => {
    expect(
      parseInPieces('HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 0\r\n\r\n', 9)[0]?.closes,
    ).toBe(true);
    expect(parseInPieces('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n', 9)[0]?.closes).toBe(true);
    expect(
      parseInPieces('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\ncontent-length: 0\r\n\r\n', 9)[0]?.closes,
    ).toBe(false);
  });

  it('refuses a connection that ends mid-response', () => {
    const parser = new HttpResponseParser();
    parser.push(Buffer.from(created.slice(0, -3)));
    expect(() => parser.end()).toThrow(HttpResponseError);
  });

  it.each([
    ['a status line that is not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nbroken\r\n\r\n'],
    ['a negative content-length', 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n'],
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'],
    ['a chunk longer than its size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nab\r\n'],
    ['an unknown transfer coding', 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => new HttpResponseParser().push(Buffer.from(text))).toThrow(HttpResponseError);
  });
});
