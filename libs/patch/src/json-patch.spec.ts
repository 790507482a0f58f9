import { applyJsonPatch } from './json-patch';
import { PatchError } from './patch-error';

describe('applyJsonPatch (RFC 6902)', () => {
  it.each([
    [{ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { foo: 'bar', baz: 'qux' }],
    [{ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
    [{ foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: 'end' }], { foo: ['bar', 'end'] }],
    [{ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
    [{ foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
    [{ baz: 'qux' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo' }],
    [
      { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    ],
    [
      { foo: ['all', 'grass', 'cows', 'eat'] },
      [{ op: 'move', from: '/foo/1', path: '/foo/3' }],
      { foo: ['all', 'cows', 'eat', 'grass'] },
    ],
    [{ a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }], { a: { b: 1 }, c: { b: 1 } }],
    [
      { 'a/b': 1, 'm~n': 2 },
      [
        { op: 'replace', path: '/a~1b', value: 3 },
        { op: 'remove', path: '/m~0n' },
      ],
      { 'a/b': 3 },
    ],
    [
      { baz: 'qux', foo: ['a', 2, 'c'] },
      [
        { op: 'test', path: '/baz', value: 'qux' },
        { op: 'test', path: '/foo/1', value: 2 },
      ],
      { baz: 'qux', foo: ['a', 2, 'c'] },
    ],
    [{ 'a~1b': 1 }, [{ op: 'move', from: '/a~01b', path: '/c' }], { c: 1 }],
    [{ a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }], { b: 2 }],
    [{ a: 1 }, [{ op: 'add', path: '', value: [1] }], [1]],
    [
      { list: [{ x: 1 }] },
      [{ op: 'copy', from: '/list/0', path: '/list/-' }],
      { list: [{ x: 1 }, { x: 1 }] },
    ],
    [{ a: null }, [{ op: 'test', path: '/a', value: null }], { a: null }],
    [
      {},
      [{ op: 'add', path: '/__proto__', value: { polluted: true } }],
      JSON.parse('{"__proto__":{"polluted":true}}'),
    ],
  ])('%j with %j', (target, operations, expected) => {
    expect(applyJsonPatch(target, operations)).toEqual(expected);
  });

  it.each([
    [{ a: 1 }, [{ op: 'test', path: '/a', value: 2 }], 'operation 0 (test /a): test failed'],
    [{ a: 1 }, [{ op: 'remove', path: '/b' }], 'path does not exist'],
    [{ a: [1] }, [{ op: 'add', path: '/a/5', value: 1 }], 'out of range'],
    [{ a: 1 }, [{ op: 'add', path: 'a', value: 1 }], 'not a JSON pointer'],
    [{ a: 1 }, [{ op: 'jump', path: '/a' }], 'unknown op "jump"'],
    [{ a: 1 }, [{ op: 'add', path: '/b' }], '"value" is required'],
    [{ a: 1 }, { op: 'add' }, 'must be an array'],
    [{ a: 1 }, [{ op: 'test', path: '/b', value: 1 }], 'operation 0 (test /b): path does not exist'],
    [{}, [{ op: 'remove', path: '/constructor' }], 'path does not exist'],
    [
      { a: { b: 1 } },
      [{ op: 'move', from: '/a', path: '/a/b/c' }],
      'cannot move a value into one of its own children',
    ],
    [{ a: 1 }, [{ op: 'copy', path: '/b' }], '"from" is required'],
    [{ a: [1, 2] }, [{ op: 'remove', path: '/a/01' }], '"01" is not an array index'],
    [{ a: 'x' }, [{ op: 'add', path: '/a/b', value: 1 }], 'parent is not an object or array'],
    [
      { a: 1 },
      [
        { op: 'replace', path: '/a', value: 2 },
        { op: 'remove', path: '/missing' },
      ],
      'operation 1 (remove /missing): path does not exist',
    ],
  ])('%j with %j fails: %s', (target, operations, message) => {
    expect(() => applyJsonPatch(target, operations)).toThrow(PatchError);
    expect(() => applyJsonPatch(target, operations)).toThrow(message);
  });

  it('leaves its input alone, even when a later operation fails', () => {
    const target = { a: 1, list: [1] };
    expect(() =>
      applyJsonPatch(target, [
        { op: 'add', path: '/list/-', value: 2 },
        { op: 'test', path: '/a', value: 9 },
      ]),
    ).toThrow(PatchError);
    expect(target).toEqual({ a: 1, list: [1] });
  });
});
