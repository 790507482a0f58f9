import { JsonLinesDecoder } from './json-lines.decoder';

describe('JsonLinesDecoder', () => {
  it('joins lines split across chunks, including inside a multi-byte character', () => {
    const decoder = new JsonLinesDecoder();
    const bytes = Buffer.from('{"type":"ADDED","object":{"name":"café"}}\n{"type":"DELETED"}\n', 'utf8');
    const accent = bytes.indexOf(0xc3);
    expect(decoder.push(bytes.subarray(0, accent + 1))).toEqual([]);
    expect(decoder.push(bytes.subarray(accent + 1, accent + 10))).toEqual([
      { type: 'ADDED', object: { name: 'café' } },
    ]);
    expect(decoder.push(bytes.subarray(accent + 10))).toEqual([{ type: 'DELETED' }]);
    expect(decoder.end()).toEqual([]);
  });

  it('returns several lines from one chunk and ignores blank lines', () => {
    const decoder = new JsonLinesDecoder();
    expect(decoder.push('{"a":1}\n\n{"b":2}\r\n{"c"')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(decoder.push(':3}\n')).toEqual([{ c: 3 }]);
  });

  it('keeps a last line that has no newline', () => {
    const decoder = new JsonLinesDecoder();
    expect(decoder.push('{"a":1}\n{"b":2}')).toEqual([{ a: 1 }]);
    expect(decoder.end()).toEqual([{ b: 2 }]);
  });

  it('says which line is not JSON', () => {
    const decoder = new JsonLinesDecoder();
    expect(() => decoder.push('not json\n')).toThrow(
      'the watch stream sent a line that is not JSON: not json',
    );
  });
});
