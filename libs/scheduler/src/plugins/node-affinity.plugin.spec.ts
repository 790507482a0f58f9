import { infoFor, testNode, testPod } from '../framework/scheduling.fixture';
import { nodeAffinity, requirementMatches } from './node-affinity.plugin';

describe('NodeAffinity', () => {
  const labels = { zone: 'a', cores: '8' };
  it.each([
    [{ key: 'zone', operator: 'In', values: ['a', 'b'] }, true],
    [{ key: 'zone', operator: 'NotIn', values: ['a'] }, false],
    [{ key: 'disk', operator: 'NotIn', values: ['ssd'] }, true],
    [{ key: 'zone', operator: 'Exists' }, true],
    [{ key: 'zone', operator: 'DoesNotExist' }, false],
    [{ key: 'cores', operator: 'Gt', values: ['4'] }, true],
    [{ key: 'cores', operator: 'Lt', values: ['4'] }, false],
    [{ key: 'zone', operator: 'Gt', values: ['4'] }, false],
  ])('%j on {zone=a, cores=8}: %s', (requirement, expected) => {
    expect(requirementMatches(requirement, labels)).toBe(expected);
  });

  it.each([
    ['no constraints', {}, 'Success'],
    ['a matching nodeSelector', { nodeSelector: { zone: 'a' } }, 'Success'],
    ['a nodeSelector that misses', { nodeSelector: { zone: 'b' } }, 'UnschedulableAndUnresolvable'],
    [
      'ORed terms, one matching',
      {
        requiredNodeAffinity: [
          { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
          { matchExpressions: [{ key: 'cores', operator: 'Exists' }] },
        ],
      },
      'Success',
    ],
    ['no terms', { requiredNodeAffinity: [] }, 'UnschedulableAndUnresolvable'],
  ])('%s', (_label, overrides, code) => {
    expect(nodeAffinity.filter(testPod('p', overrides), infoFor(testNode('n', { labels }))).code).toBe(code);
  });
});
