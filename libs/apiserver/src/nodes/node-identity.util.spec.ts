import { nodeNameOf } from './node-identity.util';

describe('nodeNameOf', () => {
  it.each<[string | string[] | undefined, string | undefined]>([
    ['system:node:node-a', 'node-a'],
    ['system:node:worker.example.com', 'worker.example.com'],
    ['system:node:', undefined],
    ['admin', undefined],
    ['flotilla-apiserver', undefined],
    [['system:node:a', 'system:node:b'], undefined],
    [['system:node:a'], 'a'],
    [undefined, undefined],
  ])('CN %j is node %j', (commonName, expected) => {
    expect(nodeNameOf(commonName)).toBe(expected);
  });
});
