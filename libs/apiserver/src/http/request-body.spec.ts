import { ApiError } from './api-error';
import { MAX_BODY_DEPTH, bodyFormat, decodeBody, mediaType, nestingDepth } from './request-body';

function status(fn: () => unknown): { code: number; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected an ApiError');
}

describe('request bodies', () => {
  it.each([
    ['application/json; charset=utf-8', 'json'],
    ['application/merge-patch+json', 'json'],
    ['application/apply-patch+yaml', 'yaml'],
    ['application/yaml', 'yaml'],
    ['text/plain', undefined],
  ])('%s decodes as %s', (contentType, expected) => {
    expect(bodyFormat(mediaType(contentType))).toBe(expected);
  });

  it('decodes JSON and YAML objects', () => {
    expect(decodeBody('{"a":[1,{"b":"]"}]}', 'json')).toEqual({ a: [1, { b: ']' }] });
    expect(decodeBody('a: 1\nb: [x, y]\n', 'yaml')).toEqual({ a: 1, b: ['x', 'y'] });
  });

  it('measures nesting outside strings and stops at the limit', () => {
    expect(nestingDepth('{"a":"[[[[","b":[[]]}')).toBe(3);
    expect(nestingDepth('['.repeat(5000), 10)).toBe(11);
    // An escaped quote does not end the string; an escaped backslash before the quote does.
    expect(nestingDepth('{"a":"\\"[[[","b":[]}')).toBe(2);
    expect(nestingDepth('{"a":"\\\\",{"b":[[]]}}')).toBe(4);
    expect(nestingDepth("{'[[[': 1}")).toBe(4);
  });

  it('refuses JSON nested a million deep with a 400', () => {
    const body = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    const result = status(() => decodeBody(body, 'json'));
    expect(result.code).toBe(400);
    expect(result.message).toContain(`more than ${MAX_BODY_DEPTH} levels`);
  });

  it('refuses a YAML billion laughs with a 400 before expanding it', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    const names = 'abcdefghi';
    for (let index = 1; index < names.length; index++) {
      const previous = names[index - 1] ?? 'a';
      lines.push(
        `${names[index] ?? ''}: &${names[index] ?? ''} [${Array(9).fill(`*${previous}`).join(',')}]`,
      );
    }
    const result = status(() => decodeBody(lines.join('\n'), 'yaml'));
    expect(result.code).toBe(400);
    expect(result.message).toMatch(/alias/i);
  });

  it.each([
    ['', 'json', 'empty'],
    ['{"a":', 'json', 'not valid JSON'],
    ['a: [1\n', 'yaml', 'not valid YAML'],
    ['a: 1\n---\nb: 2\n', 'yaml', '2 YAML documents'],
    ['a: 1\na: 2\n', 'yaml', 'not valid YAML'],
  ] as const)('refuses %j as %s (%s)', (body, format, message) => {
    const result = status(() => decodeBody(body, format));
    expect(result.code).toBe(400);
    expect(result.message).toContain(message);
  });
});
